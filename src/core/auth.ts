// Who is calling: the client by its hash key, and its JWT when the client has JWT settings (SPEC §3).
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JWTHeaderParameters } from 'jose';
import { AuthError, ValidationError } from './errors.js';
import type { ClientRecord, SendStore } from './ports.js';
import type { IntakeContext } from './send-request.js';

/** The signing algorithms a client may be pinned to; `none` is never one of them. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Seconds of clock difference tolerated on exp and nbf. */
const CLOCK_TOLERANCE_S = 5;

export async function authenticate(store: SendStore, hashKey: unknown): Promise<ClientRecord> {
  if (typeof hashKey !== 'string' || hashKey.trim() === '') {
    throw new ValidationError([{ code: 1, field: 'clientHashKey', text: 'clientHashKey is required' }]);
  }
  const client = await store.findClient(hashKey.trim());
  if (!client || !client.enabled) throw new AuthError();
  return client;
}

const tokenError = (text: string) => new AuthError(text, 'Authorization');
const hasJwtSettings = (c: ClientRecord) => c.jwt.algorithms.length > 0 && (c.jwt.secret !== null || c.jwt.publicKey !== null);

/**
 * The JWT rule: a client that requires a JWT gets no answer without a valid one; a client with JWT
 * settings that does not require it still refuses a token that is present and invalid; a client
 * without settings ignores the header (it cannot check it, and a caller's stray header is no attack).
 */
export async function verifyClient(store: SendStore, hashKey: unknown, authorization: string | undefined): Promise<ClientRecord> {
  const client = await authenticate(store, hashKey);
  const header = authorization?.trim() || undefined;
  if (!hasJwtSettings(client)) {
    if (client.jwt.required) throw tokenError('the client requires a JWT but has no key to check it with');
    return client;
  }
  if (header === undefined) {
    if (client.jwt.required) throw tokenError('an Authorization header with a JWT is required ("JWT <token>" or "Bearer <token>")');
    return client;
  }
  const m = /^(?:JWT|Bearer)\s+(\S+)$/i.exec(header);
  if (!m) throw tokenError('Authorization must be "JWT <token>" or "Bearer <token>"');
  await verifyToken(client, m[1]!);
  return client;
}

/**
 * The same rule on every intake: SOAP callers send the HTTP `Authorization` header, AMQP producers the
 * message header, so a client that requires a JWT cannot be reached around it by another wire.
 */
export function clientOf(store: SendStore, hashKey: unknown, ctx: Pick<IntakeContext, 'authorization'>): Promise<ClientRecord> {
  return verifyClient(store, hashKey, ctx.authorization);
}

const publicKeys = new Map<string, KeyObject>();
function publicKeyOf(pem: string): KeyObject {
  let key = publicKeys.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    publicKeys.set(pem, key);
  }
  return key;
}

async function verifyToken(client: ClientRecord, token: string): Promise<void> {
  const { secret, publicKey } = client.jwt;
  // The key follows the algorithm family, so a public key can never serve as an HMAC secret (algorithm confusion).
  const keyFor = (h: JWTHeaderParameters) => {
    if (h.alg.startsWith('HS')) {
      if (secret === null) throw tokenError(`the client has no secret for ${h.alg}`);
      return new TextEncoder().encode(secret);
    }
    if (publicKey === null) throw tokenError(`the client has no public key for ${h.alg}`);
    return publicKeyOf(publicKey);
  };
  // jose is loaded with the first token, not at start (cold start): most clients send none.
  const jose = await import('jose');
  try {
    await jose.jwtVerify(token, keyFor, { algorithms: client.jwt.algorithms, requiredClaims: ['exp'], clockTolerance: CLOCK_TOLERANCE_S });
  } catch (e) {
    if (e instanceof AuthError) throw e;
    throw tokenError(`the JWT is not accepted: ${reasonOf(jose.errors, e)}`);
  }
}

function reasonOf(joseErrors: typeof import('jose').errors, e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'it has expired';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed for this client';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `its "${e.claim}" claim is missing or not valid`;
  return 'it is malformed';
}

/** jwt_algorithms as stored (a comma list) -> the pinned list; unknown names and `none` are dropped. */
export function parseAlgorithms(list: string | null | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => JWT_ALGORITHMS.includes(a));
}
