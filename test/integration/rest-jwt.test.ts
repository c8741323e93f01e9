// JWT on the REST intake (SPEC §3): verified for clients that require it, with pinned algorithms and expiry; 401 code 2 otherwise.
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { sealedSecret, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { pageSample, post, postJson, postJsonApi } from '../helpers/rest.js';

const SECRET = 'rest-jwt-test-secret-of-enough-length';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const direct = { recipientName: 'X', recipientEmailAddress: 'x@example.com', mailSubject: 'jwt', mailBody: 'b' };
const doc = { data: { type: 'sendRequest', attributes: direct } };
const hs = (exp: string | number = '10m', secret = SECRET) =>
  new SignJWT({ sub: 'integrator' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret));

describe('REST JWT (SPEC §3)', () => {
  let gw: TestGateway;
  before(async () => {
    // The Hammy page's sample sends the key in the query too, which only ALLOW_KEY_IN_QUERY accepts (key-in-query.test.ts).
    gw = await startTestGateway({ ALLOW_KEY_IN_QUERY: 'true' });
    await gw.db.knex('clients').insert([
      { key_hash: keyHash('jwt-hs'), name: 'HS client', default_from_address: 'hs@example.com', jwt_required: true, jwt_algorithms: 'HS256', jwt_secret: sealedSecret(SECRET) },
      {
        key_hash: keyHash('jwt-rs'),
        name: 'RS client',
        default_from_address: 'rs@example.com',
        jwt_required: true,
        jwt_algorithms: 'RS256,ES256',
        jwt_public_key: rsa.publicKey.export({ type: 'spki', format: 'pem' }),
      },
    ]);
  });
  after(async () => gw?.stop());
  const key = (k: string, token?: string) => ({ 'X-Client-Hash-Key': k, ...(token ? { Authorization: token } : {}) });

  async function refused(r: { status: number; json: any; headers: Headers }, reason: RegExp) {
    assert.equal(r.status, 401);
    assert.equal(r.json.meta.responseStatus.code, 2);
    assert.deepEqual(r.json.errors[0].source, { header: 'Authorization' });
    assert.match(r.json.errors[0].title, reason);
  }

  it('a good HS256 token as "JWT <token>" is accepted and echoed in the answer', async () => {
    const token = `JWT ${await hs()}`;
    const r = await postJsonApi(gw.url, doc, key('jwt-hs', token));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.headers.get('authorization'), token);
  });

  it('the Hammy page sample with a real token for a client that requires one', async () => {
    const s = pageSample({ clientHashKey: 'jwt-hs', userName: 'u', jwtToken: await hs(), boundary: '1234567890', attachmentPartNev: 'image' });
    const r = await post(gw.url, s.target, s.body, s.headers);
    assert.equal(r.status, 200, r.text);
  });

  it('RS256 as "Bearer <token>" with the client public key', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(rsa.privateKey);
    const r = await postJson(gw.url, direct, key('jwt-rs', `Bearer ${token}`));
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });

  it('refused: no token, an expired one, one signed with another key, alg none, an algorithm the client is not pinned to', async () => {
    await refused(await postJsonApi(gw.url, doc, key('jwt-hs')), /required/);
    await refused(await postJsonApi(gw.url, doc, key('jwt-hs', `JWT ${await hs(Math.floor(Date.now() / 1000) - 120)}`)), /expired/);
    await refused(await postJsonApi(gw.url, doc, key('jwt-hs', `JWT ${await hs('10m', 'some-other-secret-some-other-secret')}`)), /signature/);
    const none = new UnsecuredJWT({ sub: 'integrator' }).setExpirationTime('10m').encode();
    await refused(await postJsonApi(gw.url, doc, key('jwt-hs', `JWT ${none}`)), /not accepted/);
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    await refused(await postJsonApi(gw.url, doc, key('jwt-hs', `JWT ${hs512}`)), /algorithm is not allowed/);
    // Algorithm confusion: HS256 "signed" with the RS client's public key as the secret.
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await refused(await postJsonApi(gw.url, doc, key('jwt-rs', `JWT ${await hs('10m', pem)}`)), /algorithm is not allowed/);
    assert.equal(await gw.db.knex('messages').whereIn('client_id', gw.db.knex('clients').select('id').whereIn('key_hash', ['jwt-hs', 'jwt-rs'].map(keyHash))).count('* as n').then((r) => Number(r[0]!.n)), 3);
  });

  it('the plain JSON answer for a refused token; the demo client without JWT settings ignores the header', async () => {
    const r = await postJson(gw.url, direct, key('jwt-hs', 'JWT garbage'));
    assert.equal(r.status, 401);
    assert.equal(r.json.meta.responseStatus.messages[0].field, 'Authorization');
    const demo = await postJson(gw.url, { ...direct, clientHashKey: 'aa87cd4bcd3445bbc4' }, { Authorization: 'JWT garbage' });
    assert.equal(demo.status, 200);
  });
});
