// Client management for operators: ADMIN_TOKEN guards it; a new client sends at once; a rotated key or a disabled client is code 2.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { api, problemMessages } from '../helpers/api.js';
import { eventually, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';
import { pdfText } from '../helpers/tools.js';
import path from 'node:path';

const TOKEN = 'test-admin-token-4f9a1c';
const CLIENTS = '/hammy/admin/v1/clients';
const admin = { authorization: `Bearer ${TOKEN}` };
const doc = (attributes: Record<string, unknown>) => ({ data: { type: 'clients', attributes } });
const sendAs = (url: string, key: string) =>
  postSoap(url, envelope('sendMail', { clientHashKey: key, recipientName: 'Új Ügyfél', recipientEmailAddress: 'uj@example.com', mailSubject: 'Helló', mailBody: 'első levél' }));

describe('client management (admin API)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
  });
  after(async () => gw?.stop());

  it('without the token or with a wrong one: 401 with WWW-Authenticate, nothing created', async () => {
    const none = await api(gw.url, CLIENTS, { body: doc({ name: 'X', defaultFromAddress: 'x@example.com' }) });
    const wrong = await api(gw.url, CLIENTS, { headers: { authorization: 'Bearer not-the-token' } });
    const basic = await api(gw.url, CLIENTS, { headers: { authorization: `Basic ${TOKEN}` } });
    assert.deepEqual([none.status, wrong.status, basic.status], [401, 401, 401]);
    assert.match(wrong.headers.get('www-authenticate')!, /^Bearer/);
    assert.equal(wrong.body.code, 2);
    assert.equal((await gw.db.knex('clients').count('* as n').first())!.n, 1);
  });

  it('a client key is no admin token', async () => {
    const r = await api(gw.url, CLIENTS, { headers: { authorization: 'Bearer aa87cd4bcd3445bbc4' }, key: 'aa87cd4bcd3445bbc4' });
    assert.equal(r.status, 401);
  });

  it('creates a client with a generated key and default sender; it can send at once, from that sender', async () => {
    const r = await api(gw.url, CLIENTS, {
      headers: admin,
      body: doc({ name: 'Városi Vízmű', defaultFromAddress: 'ertesito@vizmu.example', defaultFromName: 'Vízmű', maxAttachments: 3, maxAttachmentBytes: 1048576 }),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const a = r.body.data.attributes;
    assert.match(a.hashKey, /^[0-9a-f]{40}$/, '160 random bits as hex');
    assert.deepEqual([a.name, a.enabled, a.maxAttachments, a.maxAttachmentBytes, a.jwtRequired], ['Városi Vízmű', true, 3, 1048576, false]);
    assert.equal(r.headers.get('location'), `${CLIENTS}/${r.body.data.id}`);
    const sent = await sendAs(gw.url, a.hashKey);
    assert.equal(sent.code, 0, sent.raw);
    await waitForStatus(gw, sent.messageId!, 'SENT');
    const mail = gw.smtp.received.find((m) => m.mail.headers.get('x-hammy-message-id') === String(sent.messageId))!;
    assert.equal(mail.mail.from!.value[0]!.address, 'ertesito@vizmu.example');
    assert.equal(mail.mail.from!.value[0]!.name, 'Vízmű');
    const shown = await api(gw.url, `${CLIENTS}/${r.body.data.id}`, { headers: admin });
    assert.equal(shown.body.data.attributes.hashKey, undefined, 'the key is shown only when made');
    assert.ok((await api(gw.url, CLIENTS, { headers: admin })).body.data.some((c: any) => c.id === r.body.data.id));
  });

  it('two clients never get the same key', async () => {
    const keys = await Promise.all([1, 2, 3].map(async (i) => (await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: `K${i}`, defaultFromAddress: 'k@example.com' }) })).body.data.attributes.hashKey));
    assert.equal(new Set(keys).size, 3);
  });

  it('rotating the key: the new one works, the old one is code 2 at once', async () => {
    const made = (await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'Rotate', defaultFromAddress: 'r@example.com' }) })).body.data;
    const rotated = await api(gw.url, `${CLIENTS}/${made.id}/key`, { headers: admin, method: 'POST' });
    assert.equal(rotated.status, 200);
    const newKey = rotated.body.data.attributes.hashKey;
    assert.notEqual(newKey, made.attributes.hashKey);
    assert.ok(rotated.body.data.attributes.keyRotatedAt);
    assert.equal((await sendAs(gw.url, made.attributes.hashKey)).code, 2);
    assert.equal((await sendAs(gw.url, newKey)).code, 0);
    assert.equal((await api(gw.url, '/hammy/json/send/v2/messages', { key: made.attributes.hashKey })).status, 401);
  });

  it('a disabled client gets code 2 on every intake and API; enabling it again restores it', async () => {
    const made = (await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'Disable', defaultFromAddress: 'd@example.com' }) })).body.data;
    const key = made.attributes.hashKey;
    const off = await api(gw.url, `${CLIENTS}/${made.id}`, { headers: admin, method: 'PATCH', body: doc({ enabled: false }) });
    assert.equal(off.body.data.attributes.enabled, false);
    const soap = await sendAs(gw.url, key);
    assert.equal(soap.code, 2);
    const status = await api(gw.url, '/hammy/json/send/v2/messages', { key });
    assert.deepEqual([status.status, status.body.code], [401, 2]);
    const templates = await api(gw.url, '/hammy/json/send/v2/templates', { key });
    assert.equal(templates.status, 401);
    await api(gw.url, `${CLIENTS}/${made.id}`, { headers: admin, method: 'PATCH', body: doc({ enabled: true }) });
    assert.equal((await sendAs(gw.url, key)).code, 0);
  });

  it('a change made through one gateway reaches another gateway on the same database at once, not after its cache time', async () => {
    // The second gateway would reuse a client read for ten minutes; only the database notification can tell it.
    const other = await startTestGateway({ ADMIN_TOKEN: TOKEN, DB_SCHEMA: gw.schema, FIXTURES: 'none', LOOKUP_CACHE_MS: '600000' });
    try {
      const made = (await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'Shared', defaultFromAddress: 's@example.com' }) })).body.data;
      const key = made.attributes.hashKey;
      assert.equal((await sendAs(other.url, key)).code, 0); // read once, now cached there
      assert.equal((await sendAs(other.url, key)).code, 0);
      await api(gw.url, `${CLIENTS}/${made.id}`, { headers: admin, method: 'PATCH', body: doc({ enabled: false }) });
      await eventually(async () => (await sendAs(other.url, key)).code === 2, 3000, 'the other gateway to refuse the disabled client');
      const rotated = await api(gw.url, `${CLIENTS}/${made.id}/key`, { headers: admin, method: 'POST' });
      await api(gw.url, `${CLIENTS}/${made.id}`, { headers: admin, method: 'PATCH', body: doc({ enabled: true }) });
      const newKey = rotated.body.data.attributes.hashKey;
      await eventually(async () => (await sendAs(other.url, newKey)).code === 0, 3000, 'the other gateway to take the new key');
      assert.equal((await sendAs(other.url, key)).code, 2);
    } finally {
      await other.halt(); // the schema is the first gateway's
      await other.smtp.stop();
    }
  });

  it('JWT settings are checked: known algorithms, the key their family needs, a real PEM key, a long enough secret', async () => {
    const bad = await api(gw.url, CLIENTS, {
      headers: admin,
      body: doc({ name: 'J', defaultFromAddress: 'j@example.com', jwtRequired: true, jwtAlgorithms: ['RS256', 'HS256'], jwtSecret: 'short' }),
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(problemMessages(bad.body).map((m: any) => m.field), ['jwtSecret']);
    const noKey = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'J', defaultFromAddress: 'j@example.com', jwtRequired: true, jwtAlgorithms: ['RS256', 'HS256'] }) });
    assert.deepEqual(problemMessages(noKey.body).map((m: any) => m.field).sort(), ['jwtPublicKey', 'jwtSecret']);
    const notPem = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'J', defaultFromAddress: 'j@example.com', jwtAlgorithms: ['RS256'], jwtPublicKey: 'hello' }) });
    assert.equal(problemMessages(notPem.body)[0].field, 'jwtPublicKey');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const good = await api(gw.url, CLIENTS, {
      headers: admin,
      body: doc({ name: 'J', defaultFromAddress: 'j@example.com', jwtRequired: true, jwtAlgorithms: ['RS256'], jwtPublicKey: publicKey.export({ type: 'spki', format: 'pem' }) }),
    });
    assert.equal(good.status, 201, JSON.stringify(good.body));
    assert.deepEqual(good.body.data.attributes.jwtAlgorithms, ['RS256']);
    const unknownField = await api(gw.url, `${CLIENTS}/${good.body.data.id}`, { headers: admin, method: 'PATCH', body: doc({ hashKey: 'mine' }) });
    assert.deepEqual(unknownField.body.issues[0].source, { field: 'hashKey' });
    const missing = await api(gw.url, CLIENTS, { headers: admin, body: doc({}) });
    assert.deepEqual(problemMessages(missing.body).map((m: any) => m.field).sort(), ['defaultFromAddress', 'name']);
  });

  it('postalAddress: set, shown, changed and removed through the API; the letters print it as the sender, never the e-mail address', async () => {
    const made = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'Posta Kft.', defaultFromAddress: 'level@posta.example', postalAddress: 'Pf. 77;1900 Budapest' }) });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.data.id;
    assert.equal(made.body.data.attributes.postalAddress, 'Pf. 77;1900 Budapest');
    const senderBlock = async (batchId: string) => {
      const sent = await postSoap(gw.url, envelope('sendMail', { clientHashKey: made.body.data.attributes.hashKey, channel: 'POST', recipientName: 'Kovács Őszike', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'NORMAL', batchId, mailSubject: 'Levél', mailBody: 'Tisztelt Ügyfelünk!' }));
      assert.equal(sent.code, 0, sent.raw);
      await waitForStatus(gw, sent.messageId!, 'SENT');
      const text = await pdfText(path.join(gw.config.printDir, `client${id}-${batchId}`, `${sent.messageId}.pdf`));
      assert.doesNotMatch(text, /level@posta\.example/, 'no e-mail address in the letter');
      return text.slice(0, text.indexOf('Kovács Őszike'));
    };
    assert.match(await senderBlock('first'), /^Posta Kft\.\s+Pf\. 77\s+1900 Budapest\s*$/);

    const changed = await api(gw.url, `${CLIENTS}/${id}`, { method: 'PATCH', headers: admin, body: doc({ postalAddress: 'Posta utca 5.\n1234 Szeged' }) });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await api(gw.url, `${CLIENTS}/${id}`, { headers: admin })).body.data.attributes.postalAddress, 'Posta utca 5.\n1234 Szeged');
    assert.match(await senderBlock('second'), /^Posta Kft\.\s+Posta utca 5\.\s+1234 Szeged\s*$/, 'the next letter shows the change');

    const removed = await api(gw.url, `${CLIENTS}/${id}`, { method: 'PATCH', headers: admin, body: doc({ postalAddress: null }) });
    assert.equal(removed.body.data.attributes.postalAddress, null);
    assert.match(await senderBlock('third'), /^Posta Kft\.\s*$/, 'the name alone');

    for (const bad of ['  ', 42, 'a\u0000b']) {
      const r = await api(gw.url, `${CLIENTS}/${id}`, { method: 'PATCH', headers: admin, body: doc({ postalAddress: bad }) });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 1, JSON.stringify(r.body));
      assert.deepEqual(r.body.issues[0].source, { field: 'postalAddress' }, JSON.stringify(r.body));
    }
  });

  it('an unknown client id is 404', async () => {
    assert.equal((await api(gw.url, `${CLIENTS}/999999/key`, { headers: admin, method: 'POST' })).status, 404);
    assert.equal((await api(gw.url, `${CLIENTS}/abc`, { headers: admin })).status, 404);
  });

  it('without ADMIN_TOKEN the admin API does not exist (404); a short token stops the start, naming the variable but not its value', async () => {
    const plain = await startTestGateway();
    try {
      const r = await api(plain.url, CLIENTS, { headers: admin, body: doc({ name: 'X', defaultFromAddress: 'x@example.com' }) });
      assert.equal(r.status, 404);
    } finally {
      await plain.stop();
    }
    assert.throws(() => loadConfig({ ADMIN_TOKEN: 'short-secret' }), (e: Error) => /ADMIN_TOKEN/.test(e.message) && !e.message.includes('short-secret'));
  });
});
