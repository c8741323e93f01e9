// SPEC §6: requestId is not unique, identical retries are, the strict key conflicts — also under concurrency.
import assert from 'node:assert/strict';
import { fixture, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postMultipart } from '../helpers/rest.js';
import { envelope, postSoap } from '../helpers/soap.js';

const KEY = 'aa87cd4bcd3445bbc4';
const base = (extra: Record<string, string> = {}) => ({
  clientHashKey: KEY,
  recipientEmailAddress: 'idem@example.com',
  recipientName: 'Idem Potens',
  mailSubject: 'idempotency',
  mailBody: 'body',
  ...extra,
});
const withKey = (k: string, extra: Record<string, string> = {}) =>
  envelope('sendMail', base(extra), { params: `<param><key>IDEMPOTENCY_KEY</key><value>${k}</value></param>` });

describe('idempotency (SPEC §6)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => gw?.stop());
  const count = async () => Number((await gw.db.knex('messages').count('* as n'))[0]!.n);

  it('an identical retry with the same requestId gets the first messageId and sends nothing again', async () => {
    const first = await postSoap(gw.url, fixture('soap', 'sample2.xml'));
    await waitForStatus(gw, first.messageId!, 'SENT');
    const before = await count();
    const mailsBefore = gw.smtp.received.length;
    const again = await postSoap(gw.url, fixture('soap', 'sample2.xml'));
    assert.equal(again.code, 0);
    assert.equal(again.messageId, first.messageId);
    assert.equal(await count(), before);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gw.smtp.received.length, mailsBefore);
  });

  it('the same requestId with another payload is a new message (samples 2 and 3)', async () => {
    const a = await postSoap(gw.url, fixture('soap', 'sample2.xml'));
    const b = await postSoap(gw.url, fixture('soap', 'sample3.xml'));
    assert.equal(b.code, 0);
    assert.notEqual(a.messageId, b.messageId);
  });

  it('formatting differences of one request (whitespace in xmlData) are the same request', async () => {
    const a = await postSoap(gw.url, fixture('soap', 'sample2.xml').replace('<requestId>123</requestId>', '<requestId>fmt-1</requestId>'));
    const b = await postSoap(
      gw.url,
      fixture('soap', 'sample2.xml')
        .replace('<requestId>123</requestId>', '<requestId>fmt-1</requestId>')
        .replace('<DATA>', '<DATA>\n      ')
        .replace('<clientID>', '\n   <clientID>'),
    );
    assert.equal(b.messageId, a.messageId);
  });

  it('IDEMPOTENCY_KEY with the same payload returns the first messageId', async () => {
    const a = await postSoap(gw.url, withKey('k-same'));
    const b = await postSoap(gw.url, withKey('k-same'));
    assert.equal(a.code, 0);
    assert.equal(b.code, 0);
    assert.equal(b.messageId, a.messageId);
  });

  it('IDEMPOTENCY_KEY reused with another payload is code 4 and stores nothing', async () => {
    const a = await postSoap(gw.url, withKey('k-conflict'));
    const before = await count();
    const b = await postSoap(gw.url, withKey('k-conflict', { mailBody: 'changed' }));
    assert.equal(a.code, 0);
    assert.equal(b.code, 4);
    assert.equal(b.messageId, undefined);
    assert.equal(b.messages[0]!.field, 'IDEMPOTENCY_KEY');
    assert.match(b.messages[0]!.text, /k-conflict/);
    assert.equal(await count(), before);
  });

  it('multipart parts count by their bytes (hashed only because a key is there): same bytes same message, other bytes code 4', async () => {
    const doc = (k: string) => ({ ...base(), attachments: [{ fileName: 'a.bin', attachmentRef: 'file' }], params: [{ key: 'IDEMPOTENCY_KEY', value: k }] });
    const send = (k: string, bytes: Buffer) => postMultipart(gw.url, [{ name: 'message', type: 'application/json', body: JSON.stringify(doc(k)) }, { name: 'file', body: bytes }], { 'x-client-hash-key': KEY });
    const bytes = Buffer.alloc(300 * 1024, 5);
    const first = await send('mp-key-1', bytes);
    assert.equal(first.status, 200, first.text);
    const again = await send('mp-key-1', Buffer.from(bytes));
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.messageId, first.json.messageId);
    const before = await count();
    const other = Buffer.from(bytes);
    other[other.length - 1] = 6;
    const conflict = await send('mp-key-1', other);
    assert.equal(conflict.json.meta?.responseStatus?.code ?? conflict.json.code, 4, conflict.text);
    assert.equal(await count(), before);
  });

  it('concurrent duplicates (same requestId and payload) make exactly one message and one mail', async () => {
    const env = envelope('sendMail', base({ requestId: 'concurrent-1', mailSubject: 'concurrent one' }));
    const answers = await Promise.all(Array.from({ length: 20 }, () => postSoap(gw.url, env)));
    const ids = new Set(answers.map((a) => a.messageId));
    assert.deepEqual(answers.map((a) => a.code), Array(20).fill(0));
    assert.equal(ids.size, 1);
    assert.equal(Number((await gw.db.knex('messages').where({ request_id: 'concurrent-1' }).count('* as n'))[0]!.n), 1);
    const id = [...ids][0]!;
    await waitForStatus(gw, id, 'SENT');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gw.smtp.received.filter((m) => m.mail.subject === 'concurrent one').length, 1);
  });

  it('concurrent requests with one IDEMPOTENCY_KEY and different payloads: one wins, the others get code 4', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => postSoap(gw.url, withKey('k-race', { mailBody: `variant ${i}` }))));
    const accepted = answers.filter((a) => a.code === 0);
    assert.equal(accepted.length, 1);
    assert.equal(answers.filter((a) => a.code === 4).length, 9);
  });

  it('a retry after the idempotency window is a new message', async () => {
    const a = await postSoap(gw.url, envelope('sendMail', base({ requestId: 'window-1' })));
    // age the key beyond the 24 h window
    await gw.db.knex('request_keys').where({ request_id: 'window-1' }).update({ created_at: gw.db.knex.raw(`now() - interval '25 hours'`) });
    const b = await postSoap(gw.url, envelope('sendMail', base({ requestId: 'window-1' })));
    assert.equal(b.code, 0);
    assert.notEqual(b.messageId, a.messageId);
  });

  it('DRY_RUN=true renders and answers the result in params, storing nothing', async () => {
    const before = await count();
    const env = fixture('soap', 'sample2.xml').replace('</certificationExpected>', '</certificationExpected><params><param><key>DRY_RUN</key><value>true</value></param></params>');
    const r = await postSoap(gw.url, env);
    assert.equal(r.code, 0, r.raw);
    assert.equal(r.messageId, undefined);
    const p = Object.fromEntries(r.params.map((x) => [x.key, x.value]));
    assert.equal(p.DRY_RUN, 'true');
    assert.equal(p.RENDERED_SUBJECT, 'Tesztlevél a(z) 10000001 számú szerződéshez');
    assert.match(p.RENDERED_BODY!, /Ügyfélazonosító: 9000001/);
    assert.equal(p.CHANNEL, 'EMAIL');
    assert.equal(await count(), before);
  });
});
