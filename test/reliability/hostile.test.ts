// Hostile input on every intake: bombs, entities, oversized and deeply nested bodies, multipart abuse,
// header injection, traversal; and nothing secret or personal in the logs.
import { keyHash } from '../../src/core/secrets.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { SignJWT, UnsecuredJWT } from 'jose';
import { AMQP_URL, Producer } from '../helpers/amqp.js';
import { DEMO_KEY, eventually, fixture, sealedSecret, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';
import { recordScenario } from './results.js';

const noStack = (s: string) => !/\n\s+at |node_modules|\.ts:\d+|\.js:\d+/.test(s);

describe('reliability: hostile input', function () {
  this.timeout(120000);
  let gw: TestGateway;
  let producer: Producer;
  let logs = '';
  const queue = `hostile.${randomBytes(3).toString('hex')}`;
  let tried = 0;
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    gw = await startTestGateway({ AMQP_URL, AMQP_QUEUE: queue, MAX_REQUEST_BYTES: String(256 * 1024), MAX_ATTACHMENTS: '3', LOG_LEVEL: 'debug', ADMIN_TOKEN: 'hostile-battery-admin-token' }, { log: pino({ level: 'debug' }, sink) });
    producer = await Producer.open();
    await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'consuming');
  });
  after(async () => {
    recordScenario('hostile input on every intake', { inputsTried: tried, crashes: 0, stackTracesInAnswers: 0, secretsInLogs: 0, lost: 0 });
    await producer?.ch.deleteQueue(queue).catch(() => undefined);
    await producer?.ch.deleteQueue(`${queue}.dead`).catch(() => undefined);
    await producer?.close();
    await gw?.stop();
  });
  afterEach(async () => {
    assert.equal((await fetch(`${gw.url}/health`)).status, 200, 'the gateway is still up');
  });

  const rest = async (body: string | Buffer, contentType = 'application/json', headers: Record<string, string> = {}) => {
    tried++;
    const res = await fetch(`${gw.url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': contentType, 'x-client-hash-key': DEMO_KEY, ...headers }, body });
    const text = await res.text();
    assert.ok(noStack(text), text);
    return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
  const soap = async (body: string) => {
    tried++;
    const r = await postSoap(gw.url, body);
    assert.ok(noStack(r.raw), r.raw);
    return r;
  };
  const amqp = async (body: string | Buffer, o: Parameters<Producer['publish']>[2] = {}) => {
    tried++;
    const r = await producer.request(queue, body, o, 15000);
    assert.ok(noStack(r.body), r.body);
    return r;
  };

  describe('XML bombs, external entities and DOCTYPEs', () => {
    it('SOAP: billion laughs and XXE are Faults before parsing', async () => {
      for (const f of ['soap-billion-laughs.xml', 'soap-xxe.xml']) {
        const r = await soap(fixture('hostile', f));
        assert.equal(r.fault?.faultcode, 'soap:Client');
      }
    });
    it('xmlData with a DOCTYPE (SOAP escaped text, REST, AMQP) is code 1 on xmlData', async () => {
      const bomb = fixture('hostile', 'xmldata-billion-laughs.xml');
      const body = { recipientEmailAddress: 'x@example.com', recipientName: 'X', messageType: 'TEST.MAIL', xmlData: bomb };
      const r = await rest(JSON.stringify(body));
      assert.equal(r.json.meta.responseStatus.code, 1);
      assert.equal(r.json.meta.responseStatus.messages[0].field, 'xmlData');
      const a = await amqp(JSON.stringify(body));
      assert.equal(a.json.meta.responseStatus.messages[0].field, 'xmlData');
      const s = await soap(envelope('sendMail', { clientHashKey: DEMO_KEY, ...body }));
      assert.equal(s.code, 1);
    });
    it('AMQP XML body with entities is refused', async () => {
      const r = await amqp(fixture('hostile', 'soap-billion-laughs.xml').replace(/soapenv:Envelope/g, 'sendMailRequest'), { contentType: 'application/xml' });
      assert.match(r.body, /<code>1<\/code>/);
    });
  });

  describe('bodies over every size limit, refused before they are buffered whole', () => {
    const big = 'x'.repeat(300 * 1024);
    it('SOAP 413', async () => assert.equal((await soap(fixture('soap', 'sample1.xml').replace('Teszt levél szöveg', big))).httpStatus, 413));
    it('REST JSON 413 with code 5', async () => {
      const r = await rest(JSON.stringify({ mailBody: big }));
      assert.equal(r.status, 413);
      assert.equal(r.json.meta.responseStatus.code, 5);
    });
    it('REST multipart over the whole-request limit: 413', async () => {
      const form = new FormData();
      form.set('message', new Blob([JSON.stringify({ recipientEmailAddress: 'x@example.com', recipientName: 'X', mailSubject: 's', mailBody: 'b', attachments: [{ fileName: 'a.bin', attachmentRef: 'a' }] })], { type: 'application/json' }));
      form.set('a', new Blob([Buffer.alloc(400 * 1024)]), 'a.bin');
      tried++;
      const res = await fetch(`${gw.url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'x-client-hash-key': DEMO_KEY }, body: form });
      assert.equal(res.status, 413, await res.text());
    });
    it('AMQP: an oversized body and a gzip bomb are code 5', async () => {
      const r = await amqp(JSON.stringify({ mailBody: big }));
      assert.equal(r.json.meta.responseStatus.code, 5);
      const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
      assert.ok(bomb.length < 256 * 1024);
      const b = await amqp(bomb, { contentEncoding: 'gzip' });
      assert.equal(b.json.meta.responseStatus.code, 5);
    });
  });

  describe('multipart abuse', () => {
    const multipart = (parts: string[], boundary = 'XyZ') => Buffer.from(parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + `--${boundary}--\r\n`);
    it('thousands of parts', async () => {
      const parts = Array.from({ length: 3000 }, (_, i) => `Content-Disposition: form-data; name="p${i}"\r\n\r\nv`);
      const r = await rest(multipart([`Content-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n{}`, ...parts]), 'multipart/form-data; boundary=XyZ');
      assert.ok([400, 413].includes(r.status), r.text);
      assert.equal(r.json.meta.responseStatus.code, 5);
    });
    it('a huge field name', async () => {
      const r = await rest(multipart([`Content-Disposition: form-data; name="${'n'.repeat(100_000)}"\r\n\r\nv`]), 'multipart/form-data; boundary=XyZ');
      assert.ok(r.status >= 400 && r.status < 500, r.text);
    });
    it('parts without names', async () => {
      const r = await rest(multipart([`Content-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n{"recipientName":"x"}`, `Content-Type: application/octet-stream\r\n\r\nabc`]), 'multipart/form-data; boundary=XyZ');
      assert.ok(r.status >= 400 && r.status < 500, r.text);
    });
  });

  describe('deep nesting', () => {
    const deep = '{"a":'.repeat(30_000) + '1' + '}'.repeat(30_000);
    it('REST: a 30,000-level JSON body is a 400, not a crash', async () => {
      const r = await rest(deep);
      assert.equal(r.status, 400, r.text);
    });
    it('AMQP: the same is an error answer', async () => {
      const r = await amqp(deep);
      assert.ok(r.json.meta.responseStatus.code > 0);
    });
    it('SOAP: 50,000 nested elements in xmlData are a Fault or a field error', async () => {
      const r = await soap(fixture('soap', 'sample2.xml').replace('<DATA>', '<DATA>' + '<n>'.repeat(50_000) + '</n>'.repeat(50_000)));
      assert.ok(r.fault?.faultcode === 'soap:Client' || r.code === 1, r.raw.slice(0, 500));
    });
  });

  describe('header injection and traversal, on every intake', () => {
    const inject = { recipientEmailAddress: 'x@example.com', recipientName: 'X', mailSubject: 'hi\r\nBcc: victim@example.com', mailBody: 'b' };
    it('CR/LF in a header-bound field: code 1 from SOAP, REST and AMQP', async () => {
      assert.equal((await soap(envelope('sendMail', { clientHashKey: DEMO_KEY, ...inject, mailSubject: 'hi\nBcc: v@example.com' }))).code, 1);
      assert.equal((await rest(JSON.stringify(inject))).json.meta.responseStatus.code, 1);
      assert.equal((await amqp(JSON.stringify(inject))).json.meta.responseStatus.code, 1);
    });
    it('path traversal in RELATIVE_FILE_PATH and ARCHIVE_RELATIVE_PATH: code 5 from REST and AMQP', async () => {
      for (const [key, value] of [['RELATIVE_FILE_PATH', '../../../etc/passwd'], ['ARCHIVE_RELATIVE_PATH', '../../outside']]) {
        const att = { fileName: 'p.pdf', archivingExpected: true, properties: [{ key: 'ATTACHMENT_SOURCE', value: key === 'RELATIVE_FILE_PATH' ? 'FS' : 'INLINE' }, { key, value }, { key: 'ARCHIVE_TARGET', value: 'FS' }], content: key === 'RELATIVE_FILE_PATH' ? undefined : 'JVBERi0xLjQK' };
        const body = JSON.stringify({ recipientEmailAddress: 'x@example.com', recipientName: 'X', mailSubject: 's', mailBody: 'b', attachments: [att] });
        assert.equal((await rest(body)).json.meta.responseStatus.code, 5, key);
        assert.equal((await amqp(body)).json.meta.responseStatus.code, 5, key);
      }
    });
  });

  describe('JWT attacks on every intake (a client that requires HS256)', () => {
    const SECRET = 'hostile-battery-secret-of-enough-length';
    const sign = (exp: string | number, secret = SECRET) => new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    const mail = { recipientEmailAddress: 'j@example.com', recipientName: 'J', mailSubject: 'jwt', mailBody: 'b' };
    before(async () => {
      await gw.db.knex('clients').insert({ key_hash: keyHash('battery-jwt'), name: 'JWT', default_from_address: 'jwt@example.com', jwt_required: true, jwt_algorithms: 'HS256', jwt_secret: sealedSecret(SECRET) });
    });
    const tokens = async () => ({
      none: `JWT ${new UnsecuredJWT({ sub: 'x' }).setIssuedAt().setExpirationTime('5m').encode()}`,
      expired: `JWT ${await sign(Math.floor(Date.now() / 1000) - 3600)}`,
      wrongKey: `JWT ${await sign('5m', 'another-secret-of-quite-enough-length')}`,
      missing: undefined,
    });
    it('alg none, expired, wrong key and no token: code 2 on SOAP, REST and AMQP; a good token passes everywhere', async () => {
      for (const [what, token] of Object.entries(await tokens())) {
        const h: Record<string, string> = token ? { authorization: token } : {};
        tried += 3;
        const s = await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'battery-jwt', ...mail }), h);
        assert.equal(s.code, 2, `SOAP ${what}`);
        const r = await fetch(`${gw.url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': 'battery-jwt', ...h }, body: JSON.stringify(mail) });
        assert.equal(r.status, 401, `REST ${what}`);
        const a = await producer.request(queue, JSON.stringify(mail), { headers: { 'X-Client-Hash-Key': 'battery-jwt', ...(token ? { Authorization: token } : {}) } });
        assert.equal(a.json.meta.responseStatus.code, 2, `AMQP ${what}`);
      }
      const good = `JWT ${await sign('5m')}`;
      assert.equal((await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'battery-jwt', ...mail }), { authorization: good })).code, 0);
      assert.equal((await producer.request(queue, JSON.stringify(mail), { headers: { 'X-Client-Hash-Key': 'battery-jwt', Authorization: good } })).json.meta.responseStatus.code, 0);
    });
  });

  it("a client reading, resending or searching another client's messages finds nothing", async () => {
    await gw.db.knex('clients').insert({ key_hash: keyHash('battery-other'), name: 'Other', default_from_address: 'o@example.com' });
    const mine = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: 'mine@example.com', recipientName: 'M', mailSubject: 'mine', mailBody: 'b', batchId: 'battery-batch' }));
    const other = { 'x-client-hash-key': 'battery-other' };
    tried += 5;
    assert.equal((await fetch(`${gw.url}/hammy/json/send/v2/messages/${mine.messageId}`, { headers: other })).status, 404);
    assert.equal((await fetch(`${gw.url}/hammy/json/send/v2/batches/battery-batch`, { headers: other })).status, 404);
    const history = await (await fetch(`${gw.url}/hammy/json/send/v2/messages?recipientEmailAddress=mine@example.com`, { headers: other })).json();
    assert.equal(history.data.length, 0);
    assert.equal((await postSoap(gw.url, envelope('resendMail', { clientHashKey: 'battery-other', messageId: String(mine.messageId) }))).code, 6);
    const rr = await fetch(`${gw.url}/hammy/json/send/v2/resend`, { method: 'POST', headers: { 'content-type': 'application/json', ...other }, body: JSON.stringify({ messageId: mine.messageId }) });
    assert.equal(rr.status, 404);
  });

  describe('NUL characters (PostgreSQL text cannot hold them): a named field error, never code 9', () => {
    const nul = { recipientEmailAddress: 'n@example.com', recipientName: 'N', mailSubject: 's', mailBody: 'a\u0000b', properties: [{ key: 'K', value: 'v\u0000' }] };
    it('REST and AMQP bodies', async () => {
      const r = await rest(JSON.stringify(nul));
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.json.meta.responseStatus.messages.map((m: any) => m.field).sort(), ['mailBody', 'properties[0].value']);
      const a = await amqp(JSON.stringify(nul));
      assert.equal(a.json.meta.responseStatus.code, 1);
    });
    it('the path or query of any API', async () => {
      for (const p of ['/hammy/json/send/v2/messages?partnerRef=a%00b', '/hammy/json/send/v2/batches/a%00b', '/hammy/json/send/v2/documents?meta.x=%00', '/hammy/json/send/v2/templates?messageType=a%00']) {
        tried++;
        const res = await fetch(`${gw.url}${p}`, { headers: { 'x-client-hash-key': DEMO_KEY } });
        assert.equal(res.status, 400, p);
        assert.match(JSON.stringify(await res.json()), /NUL/);
      }
    });
    it('an impossible date and a repeated filter are field errors, not silently changed or dropped', async () => {
      tried += 2;
      const d = await fetch(`${gw.url}/hammy/json/send/v2/messages?from=2026-02-31`, { headers: { 'x-client-hash-key': DEMO_KEY } });
      assert.equal(d.status, 400);
      const r = await fetch(`${gw.url}/hammy/json/send/v2/documents?objectRef=A&objectRef=B`, { headers: { 'x-client-hash-key': DEMO_KEY } });
      assert.equal(r.status, 400);
    });
    it('a template version and the admin API', async () => {
      tried += 2;
      const t = await fetch(`${gw.url}/hammy/json/send/v2/templates`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY }, body: JSON.stringify({ messageType: 'NUL.TEST', subject: 'x\u0000' }) });
      assert.equal(t.status, 400, await t.text());
      const admin = { 'content-type': 'application/json', authorization: 'Bearer hostile-battery-admin-token' };
      const c = await fetch(`${gw.url}/hammy/admin/v1/clients`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'a\u0000', defaultFromAddress: 'x@example.com' }) });
      assert.equal(c.status, 400, await c.text());
      const big = await fetch(`${gw.url}/hammy/admin/v1/clients/1`, { method: 'PATCH', headers: admin, body: JSON.stringify({ maxAttachments: 2147483648 }) });
      assert.equal(big.status, 400, await big.text());
    });
  });

  it('secrets and message bodies never appear in the logs', async () => {
    const secretBody = `Titkos tartalom ${randomBytes(6).toString('hex')}`;
    const r = await soap(fixture('soap', 'sample3.xml').replace('</certificationExpected>', `</certificationExpected><mailBody>${secretBody}</mailBody>`).replace('<messageType>TEST.MAIL</messageType>', '').replace('<messageTypeVersion>1</messageTypeVersion>', '<mailSubject>s</mailSubject>'));
    assert.equal(r.code, 0, r.raw);
    await amqp(JSON.stringify({ recipientEmailAddress: 'x@example.com', recipientName: 'X', mailSubject: 's', mailBody: secretBody }), { headers: { Authorization: 'JWT eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0' } });
    await eventually(async () => (await gw.db.knex('messages').where({ id: r.messageId }).first()).status === 'SENT', 15000, 'sent');
    assert.ok(logs.length > 0, 'something was logged');
    assert.ok(!logs.includes(DEMO_KEY), 'no client key');
    assert.ok(!logs.includes(secretBody), 'no message body');
    assert.ok(!logs.includes('JVBERi0'), 'no attachment content');
    assert.ok(!logs.includes('c2VjcmV0'), 'no token');
    for (const line of logs.trim().split('\n').filter((l) => l.includes('"msg":"request"'))) assert.match(line, /"correlationId":"/, 'every request log line carries its correlation id');
  });
});
