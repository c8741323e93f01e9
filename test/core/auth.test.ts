// The JWT rule of SPEC §3 in the core: pinned algorithms, expiry required, `alg: none` and algorithm confusion refused.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { clientOf, parseAlgorithms, verifyClient } from '../../src/core/auth.js';
import { AuthError, ValidationError } from '../../src/core/errors.js';
import type { ClientRecord, SendStore } from '../../src/core/ports.js';

const SECRET = 'a-long-enough-shared-secret-for-hs256!';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PUBLIC = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;

function client(key: string, jwt: Partial<ClientRecord['jwt']> = {}): ClientRecord {
  return {
    id: 1,
    filesFolder: 'client-1',
    name: key,
    enabled: true,
    defaultFromAddress: 'a@example.com',
    defaultFromName: null,
    maxAttachments: null,
    maxAttachmentBytes: null,
    jwt: { required: false, algorithms: [], secret: null, publicKey: null, ...jwt },
  };
}
const clients = [
  client('plain'),
  client('hs-required', { required: true, algorithms: ['HS256'], secret: SECRET }),
  client('hs-optional', { algorithms: ['HS256'], secret: SECRET }),
  client('rs-required', { required: true, algorithms: ['RS256'], publicKey: RSA_PUBLIC }),
  client('misconfigured', { required: true }),
];
const store = { findClient: async (k: string) => clients.find((c) => c.name === k) } as unknown as SendStore;

const hs = (exp: string | number = '5m', alg = 'HS256', secret = SECRET) =>
  new SignJWT({ sub: 'u' }).setProtectedHeader({ alg }).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret));
const rs = (exp: string | number = '5m') => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime(exp).sign(rsa.privateKey);

async function refusal(key: string, authorization: string | undefined): Promise<AuthError> {
  try {
    await verifyClient(store, key, authorization);
  } catch (e) {
    assert.ok(e instanceof AuthError, `expected AuthError, got ${e}`);
    assert.equal(e.status, 2);
    return e;
  }
  assert.fail('expected a refusal');
}

describe('verifyClient (JWT)', () => {
  it('a client that requires a JWT: a valid HS256 token as "JWT <token>" or "Bearer <token>"', async () => {
    assert.equal((await verifyClient(store, 'hs-required', `JWT ${await hs()}`)).name, 'hs-required');
    assert.equal((await verifyClient(store, 'hs-required', `Bearer ${await hs()}`)).name, 'hs-required');
  });

  it('refuses a missing header, an expired token, a wrong key, a wrong scheme and a token without exp', async () => {
    assert.match((await refusal('hs-required', undefined)).issues[0]!.text, /required/);
    assert.match((await refusal('hs-required', `JWT ${await hs(Math.floor(Date.now() / 1000) - 60)}`)).issues[0]!.text, /expired/);
    assert.match((await refusal('hs-required', `JWT ${await hs('5m', 'HS256', 'another-secret-another-secret-xx')}`)).issues[0]!.text, /signature/);
    assert.match((await refusal('hs-required', `Basic ${await hs()}`)).issues[0]!.text, /"JWT <token>"/);
    const noExp = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    assert.match((await refusal('hs-required', `JWT ${noExp}`)).issues[0]!.text, /"exp" claim/);
    assert.equal((await refusal('hs-required', 'JWT not.a.token')).issues[0]!.field, 'Authorization');
  });

  it('refuses alg none and an algorithm the client is not pinned to', async () => {
    const none = new UnsecuredJWT({ sub: 'u' }).setExpirationTime('5m').encode();
    assert.match((await refusal('hs-required', `JWT ${none}`)).issues[0]!.text, /not accepted/);
    assert.match((await refusal('hs-required', `JWT ${await hs('5m', 'HS512')}`)).issues[0]!.text, /algorithm is not allowed/);
  });

  it('RS256 with the client public key; its public key is never taken as an HMAC secret', async () => {
    assert.equal((await verifyClient(store, 'rs-required', `Bearer ${await rs()}`)).name, 'rs-required');
    const confused = await hs('5m', 'HS256', RSA_PUBLIC);
    assert.match((await refusal('rs-required', `JWT ${confused}`)).issues[0]!.text, /algorithm is not allowed/);
  });

  it('a client with settings that does not require a JWT: no header is fine, a bad one is refused', async () => {
    assert.equal((await verifyClient(store, 'hs-optional', undefined)).name, 'hs-optional');
    assert.equal((await verifyClient(store, 'hs-optional', `JWT ${await hs()}`)).name, 'hs-optional');
    await refusal('hs-optional', `JWT ${await hs(Math.floor(Date.now() / 1000) - 60)}`);
  });

  it('a client without settings ignores the header; one that requires a JWT without a key refuses all', async () => {
    assert.equal((await verifyClient(store, 'plain', 'JWT whatever')).name, 'plain');
    assert.match((await refusal('misconfigured', `JWT ${await hs()}`)).issues[0]!.text, /no key/);
  });

  it('an unknown client is code 2, a missing key code 1', async () => {
    assert.equal((await refusal('nobody', undefined)).issues[0]!.field, 'clientHashKey');
    await assert.rejects(verifyClient(store, '', undefined), ValidationError);
  });

  it('every intake holds the same rule: a client that requires a JWT cannot be reached around it by SOAP', async () => {
    await assert.rejects(clientOf(store, 'hs-required', { authorization: undefined }), AuthError);
    assert.equal((await clientOf(store, 'hs-required', { authorization: `JWT ${await hs()}` })).name, 'hs-required');
  });

  it('parseAlgorithms keeps known names and drops none', () => {
    assert.deepEqual(parseAlgorithms(' HS256, none ,RS256,foo'), ['HS256', 'RS256']);
    assert.deepEqual(parseAlgorithms(null), []);
  });
});
