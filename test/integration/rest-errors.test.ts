// Every REST error path of SPEC §3/§7: HTTP status, code, and the pointer (or header) that names the cause; nothing stored.
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DEMO_KEY, fixtureBytes, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { JSONAPI, multipart, post, postJson, postJsonApi, postMultipart, RESEND, SEND, type Part } from '../helpers/rest.js';

const direct = { clientHashKey: DEMO_KEY, recipientName: 'X', recipientEmailAddress: 'x@example.com', mailSubject: 's', mailBody: 'b' };
const doc = (attributes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ data: { type: 'sendRequest', attributes, ...extra } });
const message = (m: unknown, type = JSONAPI): Part => ({ name: 'message', type, body: JSON.stringify(m) });
const withRefs = (...refs: string[]) => doc(direct, { relationships: { attachments: { data: refs.map((_, i) => ({ type: 'attachments', id: String(i) })) } } });
const included = (...refs: string[]) => refs.map((ref, i) => ({ type: 'attachments', id: String(i), attributes: { fileName: `f${i}.bin`, attachmentRef: ref } }));
const refsDoc = (...refs: string[]) => ({ ...withRefs(...refs), included: included(...refs) });
const pointers = (r: { json: any }) => r.json.errors.map((e: any) => e.source.pointer ?? `header:${e.source.header}`);

/**
 * Streams a body with chunked transfer coding (no Content-Length): `head`, then `filler` chunks until the
 * answer comes or `total` bytes are sent. Returns the answer and how much was sent before it came.
 */
function streamUntilAnswered(url: string, contentType: string, head: Buffer, total: number): Promise<{ status: number; json: any; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(`${url}${SEND}`, { method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      const body: Buffer[] = [];
      res.on('data', (c) => body.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(body).toString()), sent }));
    });
    req.on('error', (e) => !answered && reject(e)); // EPIPE once the gateway closed: expected after its answer
    (async () => {
      req.write(head);
      const filler = Buffer.alloc(64 * 1024, 0x61);
      while (!answered && sent < total) {
        if (!req.write(filler)) await new Promise((r) => req.once('drain', r));
        sent += filler.length;
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

describe('REST errors (SPEC §3, §7)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ MAX_ATTACHMENTS: '2', MAX_ATTACHMENT_BYTES: '1000', MAX_REQUEST_BYTES: String(64 * 1024) });
    await gw.db.knex('clients').insert({ key_hash: keyHash('disabled-key'), name: 'Off', enabled: false, default_from_address: 'off@example.com' });
    await gw.db.knex('clients').insert({ key_hash: keyHash('other-client-key'), name: 'Other', default_from_address: 'other@example.com' });
  });
  after(async () => gw?.stop());
  const count = async () => Number((await gw.db.knex('messages').count('* as n'))[0]!.n);
  let countBefore = 0;
  beforeEach(async () => {
    countBefore = await count();
  });
  /** Nothing was stored and no spooled part is left behind. */
  async function nothingStored() {
    assert.equal(await count(), countBefore, 'nothing stored');
    const spool = path.join(gw.dataDir, 'tmp', 'rest');
    assert.deepEqual(fs.existsSync(spool) ? fs.readdirSync(spool) : [], [], 'no spooled part left');
  }

  describe('400 invalid', () => {
    it('every violation at once, each with a pointer to its attribute, also inside included', async () => {
      const r = await postJsonApi(gw.url, {
        data: {
          type: 'sendRequest',
          attributes: { ...direct, recipientName: undefined, recipientEmailAddress: 'not-an-address', mailSubject: 'x'.repeat(601), letterType: 'FAX' },
          relationships: { attachments: { data: [{ type: 'attachments', id: 'a1' }] } },
        },
        included: [{ type: 'attachments', id: 'a1', attributes: { content: 'aGVsbG8=' } }],
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.meta.responseStatus.code, 1);
      assert.deepEqual(pointers(r).sort(), [
        '/data/attributes/letterType',
        '/data/attributes/mailSubject',
        '/data/attributes/recipientEmailAddress',
        '/data/attributes/recipientName',
        '/included/0/attributes/fileName',
      ]);
      for (const e of r.json.errors) assert.deepEqual([e.status, e.code], ['400', '1']);
      assert.equal(r.json.data, undefined);
      await nothingStored();
    });

    it('the plain JSON shape carries the same messages with their fields', async () => {
      const r = await postJson(gw.url, { ...direct, recipientName: null, channel: 'FAX' });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.json), ['meta']);
      assert.equal(r.json.meta.responseStatus.code, 1);
      assert.deepEqual(r.json.meta.responseStatus.messages.map((m: any) => m.field).sort(), ['channel', 'recipientName']);
    });

    it('malformed JSON is a 400 with a pointer, not a crash; so is a JSON:API document without data, or a wrong type', async () => {
      const a = await postJsonApi(gw.url, '{"data": {"type": "sendRequest", ');
      assert.equal(a.status, 400);
      assert.equal(a.json.meta.responseStatus.code, 1);
      assert.equal(a.json.errors[0].source.pointer, '/');
      assert.match(a.json.errors[0].title, /not valid JSON/);
      const b = await postJsonApi(gw.url, { meta: {} });
      assert.deepEqual([b.status, pointers(b)], [400, ['/data']]);
      const c = await postJsonApi(gw.url, { data: { type: 'messages', attributes: direct } });
      assert.deepEqual([c.status, pointers(c)], [400, ['/data/type']]);
      const d = await postJson(gw.url, '[1, 2]');
      assert.equal(d.status, 400);
      const e = await postMultipart(gw.url, [{ name: 'message', type: 'application/json', body: '{"oops"' }]);
      assert.equal(e.status, 400);
      assert.equal(e.json.errors[0].source.pointer, '/parts/message');
      await nothingStored();
    });

    it('a multipart body without its message part, or cut short', async () => {
      const a = await postMultipart(gw.url, [{ name: 'other', type: 'application/pdf', body: fixtureBytes('files', 'minta.pdf') }]);
      assert.deepEqual([a.status, a.json.meta.responseStatus.code, pointers(a)], [400, 1, ['/parts/message']]);
      const m = multipart([message(doc(direct))]);
      const b = await post(gw.url, SEND, m.body.subarray(0, m.body.length - 40), { 'content-type': m.contentType });
      assert.deepEqual([b.status, b.json.meta.responseStatus.code], [400, 1]);
      assert.match(b.json.errors[0].title, /malformed or ended early/);
      const c = await post(gw.url, SEND, m.body, { 'content-type': 'multipart/form-data' });
      assert.match(c.json.errors[0].title, /no boundary/);
      await nothingStored();
    });
  });

  describe('400 code 5: attachment parts', () => {
    it('an attachmentRef without its part names the attachment in included', async () => {
      const r = await postMultipart(gw.url, [message(refsDoc('missing'))]);
      assert.equal(r.status, 400);
      assert.equal(r.json.meta.responseStatus.code, 5);
      assert.deepEqual(pointers(r), ['/included/0/attributes/attachmentRef']);
      assert.match(r.json.errors[0].title, /"missing" names no part/);
      await nothingStored();
    });

    it('a part nobody references, named by its part pointer', async () => {
      const r = await postMultipart(gw.url, [message(refsDoc('a')), { name: 'a', type: 'text/plain', body: 'A' }, { name: 'stray', type: 'text/plain', body: 'S' }]);
      assert.deepEqual([r.status, r.json.meta.responseStatus.code, pointers(r)], [400, 5, ['/parts/stray']]);
      assert.match(r.json.errors[0].title, /"stray" is not named by any attachmentRef/);
      await nothingStored();
    });

    it('two parts with one name, and one part named by two attachments', async () => {
      const a = await postMultipart(gw.url, [message(refsDoc('a')), { name: 'a', type: 'text/plain', body: 'A' }, { name: 'a', type: 'text/plain', body: 'B' }]);
      assert.deepEqual([a.status, a.json.meta.responseStatus.code, pointers(a)], [400, 5, ['/parts/a']]);
      assert.match(a.json.errors[0].title, /two multipart parts are named "a"/);
      const b = await postMultipart(gw.url, [message(refsDoc('a', 'a')), { name: 'a', type: 'text/plain', body: 'A' }]);
      assert.deepEqual([b.status, pointers(b)], [400, ['/included/1/attributes/attachmentRef']]);
      await nothingStored();
    });

    it('a multipart/mixed part without a name; an attachmentRef in a body that is not multipart', async () => {
      const a = await postMultipart(gw.url, [{ type: JSONAPI, body: JSON.stringify(doc(direct)), headers: { 'Content-Disposition': 'inline; name="message"' } }, { type: 'text/plain', body: 'anonymous' }], {}, 'mixed');
      assert.deepEqual([a.status, a.json.meta.responseStatus.code, pointers(a)], [400, 5, ['/parts']]);
      const b = await postJson(gw.url, { ...direct, attachments: [{ fileName: 'a.txt', attachmentRef: 'a' }] });
      assert.deepEqual([b.status, b.json.meta.responseStatus.code], [400, 5]);
      assert.equal(b.json.meta.responseStatus.messages[0].field, 'attachments[0].attachmentRef');
      await nothingStored();
    });
  });

  describe('413 over a limit: code 5, nothing stored', () => {
    it('more attachment parts than MAX_ATTACHMENTS', async () => {
      const r = await postMultipart(gw.url, [message(refsDoc('a', 'b', 'c')), ...['a', 'b', 'c'].map((n) => ({ name: n, type: 'text/plain', body: n }))]);
      assert.deepEqual([r.status, r.json.meta.responseStatus.code, pointers(r)], [413, 5, ['/parts/c']]);
      await nothingStored();
    });

    it('a part larger than MAX_ATTACHMENT_BYTES', async () => {
      const r = await postMultipart(gw.url, [message(refsDoc('big')), { name: 'big', type: 'application/octet-stream', body: Buffer.alloc(5000, 1) }]);
      assert.deepEqual([r.status, r.json.meta.responseStatus.code, pointers(r)], [413, 5, ['/parts/big']]);
      assert.match(r.json.errors[0].title, /larger than the limit of 1000 bytes/);
      await nothingStored();
    });

    it("a client's own higher limit applies when its key comes in a header; a lower one is the core's to enforce", async () => {
      await gw.db.knex('clients').insert([
        { key_hash: keyHash('big-files'), name: 'Big', default_from_address: 'big@example.com', max_attachment_bytes: 10000 },
        { key_hash: keyHash('small-files'), name: 'Small', default_from_address: 'small@example.com', max_attachment_bytes: 100 },
      ]);
      const parts = (key?: string): Part[] => [
        message({ ...refsDoc('f'), data: { ...refsDoc('f').data, attributes: { ...direct, clientHashKey: key } } }),
        { name: 'f', type: 'application/octet-stream', body: Buffer.alloc(5000, 2) },
      ];
      const a = await postMultipart(gw.url, parts(), { 'X-Client-Hash-Key': 'big-files' });
      assert.equal(a.status, 200, JSON.stringify(a.json));
      const b = await postMultipart(gw.url, parts('big-files'));
      assert.deepEqual([b.status, pointers(b)], [413, ['/parts/f']], 'a key in the body comes too late for the parse: the default limit holds');
      const c = await postMultipart(gw.url, parts(), { 'X-Client-Hash-Key': 'small-files' });
      assert.deepEqual([c.status, c.json.meta.responseStatus.code], [413, 5]);
      assert.equal(await count(), countBefore + 1);
    });

    it('a streaming part over the limit is answered while it still arrives: the rest of the upload is never read', async () => {
      const m = multipart([message(refsDoc('big'))]);
      const open = Buffer.concat([m.body.subarray(0, m.body.lastIndexOf('--hammy')), Buffer.from(`--${m.contentType.split('boundary=')[1]}\r\nContent-Disposition: form-data; name="big"\r\nContent-Type: application/octet-stream\r\n\r\n`)]);
      const total = 200 * 1024 * 1024;
      const r = await streamUntilAnswered(gw.url, m.contentType, open, total);
      assert.deepEqual([r.status, r.json.meta.responseStatus.code, r.json.errors[0].source.pointer], [413, 5, '/parts/big']);
      assert.ok(r.sent < total / 4, `answered after ${r.sent} of ${total} bytes`);
      await nothingStored();
    });

    it('a base64 attachment over the limit in a JSON body', async () => {
      const r = await postJson(gw.url, { ...direct, attachments: [{ fileName: 'a.bin', content: Buffer.alloc(2000).toString('base64') }] });
      assert.deepEqual([r.status, r.json.meta.responseStatus.code], [413, 5]);
      await nothingStored();
    });

    it('a whole request over MAX_REQUEST_BYTES: by Content-Length before reading, and counted while a chunked body streams', async () => {
      const big = Buffer.alloc(100 * 1024, 0x61);
      const a = await postJson(gw.url, { ...direct, mailBody: big.toString() });
      assert.deepEqual([a.status, a.json.meta.responseStatus.code], [413, 5]);
      const m = multipart([message(doc({ ...direct, mailBody: big.toString() }))]);
      const b = await post(gw.url, SEND, m.body, { 'content-type': m.contentType });
      assert.deepEqual([b.status, b.json.meta.responseStatus.code], [413, 5]);
      const c = await streamUntilAnswered(gw.url, m.contentType, m.body.subarray(0, 1000), 1024 * 1024);
      assert.deepEqual([c.status, c.json.meta.responseStatus.code], [413, 5]);
      assert.match(c.json.errors[0].title, /larger than the limit of 65536 bytes/);
      await nothingStored();
    });
  });

  describe('401, 404, 409, 415, 500', () => {
    it('401 code 2: an unknown client (header or body) and a disabled one', async () => {
      for (const r of [
        await postJsonApi(gw.url, doc({ ...direct, clientHashKey: undefined }), { 'X-Client-Hash-Key': 'no-such-client' }),
        await postJson(gw.url, { ...direct, clientHashKey: 'disabled-key' }),
      ]) {
        assert.equal(r.status, 401);
        assert.equal(r.json.meta.responseStatus.code, 2);
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="hammy"');
      }
      await nothingStored();
    });

    it('404 code 3: an unknown messageType; 404 code 6: resend of a missing or another client\'s message', async () => {
      const a = await postJsonApi(gw.url, doc({ ...direct, mailSubject: undefined, mailBody: undefined, messageType: 'NO.SUCH' }));
      assert.deepEqual([a.status, a.json.meta.responseStatus.code, pointers(a)], [404, 3, ['/data/attributes/messageType']]);
      const other = await postJson(gw.url, { ...direct, clientHashKey: 'other-client-key' });
      assert.equal(other.status, 200);
      const b = await postJsonApi(gw.url, { data: { type: 'resendRequest', attributes: { clientHashKey: DEMO_KEY, messageId: other.json.messageId } } }, {}, RESEND);
      assert.deepEqual([b.status, b.json.meta.responseStatus.code, pointers(b)], [404, 6, ['/data/attributes/messageId']]);
      const c = await postJson(gw.url, { clientHashKey: DEMO_KEY, messageId: 99999999 }, {}, RESEND);
      assert.deepEqual([c.status, c.json.meta.responseStatus.code], [404, 6]);
    });

    it('409 code 4: the IDEMPOTENCY_KEY param reused with another payload', async () => {
      const params = [{ key: 'IDEMPOTENCY_KEY', value: `k-${Date.now()}` }];
      assert.equal((await postJson(gw.url, { ...direct, params })).status, 200);
      const r = await postJsonApi(gw.url, doc({ ...direct, mailBody: 'changed', params }));
      assert.deepEqual([r.status, r.json.meta.responseStatus.code], [409, 4]);
    });

    it('415: an unsupported Content-Type, none at all, or a message part that is not JSON', async () => {
      const a = await post(gw.url, SEND, 'hello', { 'content-type': 'text/plain' });
      assert.deepEqual([a.status, a.json.meta.responseStatus.code, pointers(a)], [415, 1, ['header:Content-Type']]);
      const b = await fetch(`${gw.url}${SEND}`, { method: 'POST', body: new Uint8Array([1, 2]) });
      assert.equal(b.status, 415);
      const c = await postMultipart(gw.url, [{ name: 'message', type: 'application/xml', body: '<sendMailRequest/>' }]);
      assert.deepEqual([c.status, pointers(c)], [415, ['/parts/message']]);
      await nothingStored();
    });

    it('500 code 9 with a correlation id and no internal detail; nothing stored half', async () => {
      await gw.db.knex.schema.renameTable('jobs', 'jobs_gone');
      try {
        const r = await postJsonApi(gw.url, doc(direct), { 'X-Correlation-Id': 'corr-rest-1' });
        assert.equal(r.status, 500);
        assert.equal(r.headers.get('x-correlation-id'), 'corr-rest-1');
        assert.equal(r.json.meta.responseStatus.code, 9);
        assert.match(r.json.errors[0].title, /corr-rest-1/);
        assert.doesNotMatch(r.text, /\bjobs\b|does not exist|select |insert |\.(ts|js):\d+|at \w+ \(/i);
        const p = await postJson(gw.url, direct, { 'X-Correlation-Id': 'corr-rest-2' });
        assert.deepEqual([p.status, p.json.meta.responseStatus.code], [500, 9]);
        assert.match(p.json.meta.responseStatus.messages[0].text, /corr-rest-2/);
      } finally {
        await gw.db.knex.schema.renameTable('jobs_gone', 'jobs');
      }
      await nothingStored();
    });

    it('traceability headers longer than 255 characters are refused by name', async () => {
      const r = await postJsonApi(gw.url, doc(direct), { 'X-Origin': 'o'.repeat(300) });
      assert.deepEqual([r.status, pointers(r)], [400, ['header:X-Origin']]);
    });
  });
});
