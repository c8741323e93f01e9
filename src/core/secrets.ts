// Keys handed to callers (client hash keys, portal keys): random, shown once, stored and looked up only as a SHA-256.
// Secrets the gateway must use again (JWT HMAC secrets): sealed with SECRETS_KEY (AES-256-GCM) before they are stored.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** 160 random bits as hex: a key nobody guesses, short enough for a header or a SOAP field. */
export const generateKey = () => randomBytes(20).toString('hex');

/** What is stored for a key: its SHA-256 (hex). A 160-bit random key needs no slow hash; a look-up is by this value. */
export const keyHash = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** Equal tokens in constant time: both sides are hashed first, so neither length nor content leaks by timing. */
export function tokenMatches(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The prefix of a secret sealed with SECRETS_KEY: a stored value without it is a secret in clear. */
export const SEALED_PREFIX = 'enc:v1:';
const AAD = Buffer.from('hammy client jwt_secret');

/**
 * SECRETS_KEY as a 256-bit AES key: 64 hex digits or base64 of 32 bytes are the key itself; any other value
 * of 32 or more characters is a passphrase, stretched by HKDF-SHA256. Undefined when the value is not usable.
 */
export function secretsKeyOf(value: string): Buffer | undefined {
  const v = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(v)) return Buffer.from(v, 'base64');
  if (v.length < 32) return undefined;
  return Buffer.from(hkdfSync('sha256', v, 'hammy-gateway', 'SECRETS_KEY v1', 32));
}

/** AES-256-GCM with a fresh 96-bit nonce: `enc:v1:<nonce>:<tag>:<ciphertext>`, each base64. */
export function sealSecret(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv).setAAD(AAD);
  const body = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return `${SEALED_PREFIX}${iv.toString('base64')}:${c.getAuthTag().toString('base64')}:${body.toString('base64')}`;
}

export const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);

/** The secret in clear; throws when the value was sealed with another key or altered (GCM tag). */
export function openSecret(key: Buffer, sealed: string): string {
  const [iv, tag, body] = sealed.slice(SEALED_PREFIX.length).split(':');
  if (!isSealed(sealed) || iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed secret');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64')).setAAD(AAD);
  d.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8');
}
