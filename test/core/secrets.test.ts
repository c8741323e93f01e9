// Keys handed out (generateKey, keyHash, tokenMatches) and secrets sealed with SECRETS_KEY (core/secrets.ts).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { generateKey, isSealed, keyHash, openSecret, SEALED_PREFIX, sealSecret, secretsKeyOf, tokenMatches } from '../../src/core/secrets.js';

describe('secrets: keys handed to callers', () => {
  it('keyHash is the SHA-256 hex of the UTF-8 key', () => {
    assert.equal(keyHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(keyHash('schlüssel'), createHash('sha256').update(Buffer.from('schlüssel', 'utf8')).digest('hex'));
    assert.notEqual(keyHash('abc'), keyHash('abd'));
  });

  it('generateKey is 40 lowercase hex digits and different each time', () => {
    const keys = new Set(Array.from({ length: 50 }, generateKey));
    assert.equal(keys.size, 50);
    for (const k of keys) assert.match(k, /^[0-9a-f]{40}$/);
  });

  it('tokenMatches: equal tokens true; different content or length false, without throwing', () => {
    assert.equal(tokenMatches('s3cret-token', 's3cret-token'), true);
    assert.equal(tokenMatches('s3cret-token', 's3cret-tokem'), false);
    assert.equal(tokenMatches('short', 'a much longer token than the other'), false);
    assert.equal(tokenMatches('', 'x'), false);
    assert.equal(tokenMatches('', ''), true);
  });
});

describe('secrets: SECRETS_KEY and sealed secrets', () => {
  const hex = 'a1'.repeat(32);
  const key = secretsKeyOf(hex)!;

  it('64 hex digits and base64 of 32 bytes are the key itself', () => {
    assert.deepEqual(key, Buffer.from(hex, 'hex'));
    const raw = randomBytes(32);
    assert.deepEqual(secretsKeyOf(raw.toString('base64')), raw);
    assert.deepEqual(secretsKeyOf(raw.toString('base64').replace(/=$/, '')), raw);
    assert.deepEqual(secretsKeyOf(`  ${hex}\n`), key, 'surrounding white space is trimmed');
  });

  it('a passphrase of 32 or more characters is stretched to 32 bytes, the same each time', () => {
    const phrase = 'correct horse battery staple, twice over!';
    const k = secretsKeyOf(phrase)!;
    assert.equal(k.length, 32);
    assert.deepEqual(secretsKeyOf(phrase), k);
    assert.notDeepEqual(secretsKeyOf(`${phrase}?`), k);
    assert.notDeepEqual(k, Buffer.from(phrase).subarray(0, 32), 'not the phrase bytes themselves');
    // 63 hex digits are not a hex key: as any other 32+ characters, a passphrase (README, SECRETS_KEY).
    const almostHex = 'a1'.repeat(31) + 'a';
    assert.equal(secretsKeyOf(almostHex)!.length, 32);
    assert.notDeepEqual(secretsKeyOf(almostHex), Buffer.from(almostHex.slice(0, 62), 'hex'));
  });

  it('bad SECRETS_KEY forms are not usable: empty, blank, shorter than 32 characters, base64 of 16 bytes', () => {
    assert.equal(secretsKeyOf(''), undefined);
    assert.equal(secretsKeyOf('   '), undefined);
    assert.equal(secretsKeyOf('too short a passphrase'), undefined);
    assert.equal(secretsKeyOf('a'.repeat(31)), undefined);
    assert.equal(secretsKeyOf(randomBytes(16).toString('base64')), undefined, 'base64 of 16 bytes');
  });

  it('seal then open gives the secret back; each seal differs (fresh nonce) and starts with the prefix', () => {
    const secret = 'jwt-hmac-secret-äöü';
    const a = sealSecret(key, secret);
    const b = sealSecret(key, secret);
    assert.ok(a.startsWith(SEALED_PREFIX) && isSealed(a));
    assert.notEqual(a, b);
    assert.ok(!a.includes(secret));
    assert.equal(openSecret(key, a), secret);
    assert.equal(openSecret(key, b), secret);
    assert.equal(openSecret(key, sealSecret(key, '')), '');
  });

  it('isSealed is false for a secret in clear', () => {
    assert.equal(isSealed('plain-secret'), false);
    assert.equal(isSealed('enc:v2:x:y:z'), false);
  });

  it('open refuses another key, an altered ciphertext, tag or nonce, and a value that is not sealed', () => {
    const sealed = sealSecret(key, 'the secret');
    assert.throws(() => openSecret(secretsKeyOf('b2'.repeat(32))!, sealed));
    const [iv, tag, body] = sealed.slice(SEALED_PREFIX.length).split(':') as [string, string, string];
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      buf[0] = buf[0]! ^ 1;
      return buf.toString('base64');
    };
    assert.throws(() => openSecret(key, `${SEALED_PREFIX}${iv}:${tag}:${flip(body)}`));
    assert.throws(() => openSecret(key, `${SEALED_PREFIX}${iv}:${flip(tag)}:${body}`));
    assert.throws(() => openSecret(key, `${SEALED_PREFIX}${flip(iv)}:${tag}:${body}`));
    assert.throws(() => openSecret(key, 'the secret'), /not a sealed secret/);
    assert.throws(() => openSecret(key, `${SEALED_PREFIX}${iv}:${tag}`), /not a sealed secret/);
  });
});
