// Bounded bodies (issue 15, point 5) through the real wire: the shared memory budget (REST, SOAP, AMQP), a header key
// checked before the body is read, and JSON bodies bounded in keys and depth before parsing.
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DEMO_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AMQP_URL, Producer, queueConsumed } from '../helpers/amqp.js';
import { api, problemMessages } from '../helpers/api.js';
import { JSONAPI, postJson, postJsonApi, SEND } from '../helpers/rest.js';
import { envelope, postSoap } from '../helpers/soap.js';

const KiB = 1024;
const SOAP = '/hammy/soap/send/v2';
const direct = { clientHashKey: DEMO_KEY, recipientName: 'X', recipientEmailAddress: 'x@example.com', mailSubject: 's', mailBody: 'b' };

type Raw = { status: number; headers: http.IncomingHttpHeaders; text: string; json?: any };

/**
 * Sends the headers (declaring `length` bytes) and `first` bytes of the body, no more: the request stays open, holding
 * whatever the gateway reserved for it, until `abort()`. `answer` settles when (if) the gateway answers.
 */
function openRequest(url: string, path: string, headers: Record<string, string>, length: number, first = 0) {
  const req = http.request(`${url}${path}`, { method: 'POST', headers: { 'content-length': String(length), ...headers } });
  const answer = new Promise<Raw>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  req.flushHeaders();
  if (first) req.write(Buffer.alloc(first, 0x20));
  return { answer, abort: () => req.destroy() };
}

/** Sends a body with chunked transfer coding (no Content-Length), all of it. */
function postChunked(url: string, headers: Record<string, string>, body: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${SEND}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString(), json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', (e) => (/ECONNRESET|EPIPE/.test(String(e)) ? undefined : reject(e)));
    for (let i = 0; i < body.length; i += 16 * KiB) req.write(body.subarray(i, i + 16 * KiB));
    req.end();
  });
}

describe('bounded bodies: memory budget, keys before bodies, JSON shape', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let producer: Producer;
  let queue: string;
  const stored = async () => Number((await gw.db.knex('messages').count({ n: '*' }).first())!.n);
  before(async () => {
    queue = `test.budget.${randomBytes(4).toString('hex')}`;
    gw = await startTestGateway({
      // 1 MiB for all bodies, half of it for bodies whose client is known only from the body; a short wait.
      BODY_MEMORY_BYTES: String(1024 * KiB),
      BODY_MEMORY_ANONYMOUS_PERCENT: '50',
      BODY_MEMORY_WAIT_MS: '300',
      MAX_REQUEST_BYTES: String(1024 * KiB),
      AMQP_URL,
      AMQP_QUEUE: queue,
      AMQP_MAX_ATTEMPTS: '2',
      AMQP_RETRY_DELAY_MS: '50',
      AMQP_REPLY_EXCHANGE: `${queue}.reply`,
    });
    producer = await Producer.open();
    await queueConsumed(gw.url);
  });
  after(async () => {
    await producer?.removeAndClose(queue);
    await gw?.stop();
  });

  describe('a key in a header is checked before the body is read', () => {
    // The body is declared huge and never sent: only an answer decided on the headers alone can come back.
    it('REST: an unknown X-Client-Hash-Key is 401 / code 2 at once, naming the header', async () => {
      const r = openRequest(gw.url, SEND, { 'content-type': 'application/json', 'x-client-hash-key': 'nope' }, 1000 * KiB);
      const a = await r.answer;
      r.abort();
      assert.equal(a.status, 401);
      assert.equal(a.json.meta.responseStatus.code, 2);
      assert.equal(a.json.meta.responseStatus.messages[0].field, 'X-Client-Hash-Key');
    });

    it('REST: a key in the query is refused at once too (no key in URLs unless ALLOW_KEY_IN_QUERY)', async () => {
      const r = openRequest(gw.url, `${SEND}?clientHashKey=nope`, { 'content-type': JSONAPI }, 1000 * KiB);
      const a = await r.answer;
      r.abort();
      assert.equal(a.status, 400);
      assert.equal(a.json.meta.responseStatus.code, 1);
      assert.equal(a.json.meta.responseStatus.messages[0].field, 'clientHashKey');
    });

    it('SOAP: an unknown X-Client-Hash-Key is a sendMailResponse with code 2, the envelope never read', async () => {
      const r = openRequest(gw.url, SOAP, { 'content-type': 'text/xml; charset=utf-8', 'x-client-hash-key': 'nope' }, 1000 * KiB);
      const a = await r.answer;
      r.abort();
      assert.equal(a.status, 200);
      assert.match(a.text, /<tns:sendMailResponse><response><status><code>2<\/code><messages><message><code>2<\/code><field>X-Client-Hash-Key<\/field>/);
    });

    it('SOAP: the same refusal of a resendMail is a resendMailResponse, as the WSDL has it (SOAPAction empty, as the WSDL says)', async () => {
      const head = '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:send="http://send.api.hammy.dbx.hu/"><soapenv:Body><send:resendMail><request>';
      const res = await fetch(`${gw.url}${SOAP}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', 'x-client-hash-key': 'nope' }, body: `${head}<messageId>1</messageId></request></send:resendMail></soapenv:Body></soapenv:Envelope>` });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<tns:resendMailResponse><response><status><code>2<\/code>/);
    });

    it('REST: X-User-Name over userName\'s 100 characters is code 1 naming the header', async () => {
      const res = await fetch(`${gw.url}${SEND}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY, 'x-user-name': 'u'.repeat(101) }, body: '{}' });
      const body = await res.json();
      assert.equal(res.status, 400);
      assert.equal(body.meta.responseStatus.messages[0].field, 'X-User-Name');
      assert.equal(body.meta.responseStatus.messages[0].text, 'X-User-Name must be at most 100 characters');
    });

    it('AMQP: an unknown header key is code 2 before the body is even inflated (a body that is no gzip at all)', async () => {
      const r = await producer.request(queue, 'not gzip', { contentEncoding: 'gzip', headers: { 'X-Client-Hash-Key': 'nope' } });
      assert.equal(r.json.meta.responseStatus.code, 2);
      assert.equal(r.json.meta.responseStatus.messages[0].field, 'X-Client-Hash-Key');
    });
  });

  describe('over the budget a request waits, then is refused as busy: never held whole', () => {
    it('REST: while another body holds the budget, a second is 503 / code 9 with Retry-After; after, it goes through', async () => {
      const before = await stored();
      const holder = openRequest(gw.url, SEND, { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY }, 900 * KiB, 10 * KiB);
      await new Promise((r) => setTimeout(r, 200)); // the holder's headers reach the gateway first
      const body = JSON.stringify({ ...direct, mailBody: 'x'.repeat(400 * KiB) });
      const busy = await postJson(gw.url, body, { 'x-client-hash-key': DEMO_KEY });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '1');
      assert.equal(busy.json.meta.responseStatus.code, 9);
      assert.match(busy.json.meta.responseStatus.messages[0].text, /busy/);
      holder.abort();
      const ok = await eventually(async () => {
        const r = await postJson(gw.url, body, { 'x-client-hash-key': DEMO_KEY });
        return r.status === 200 && r;
      }, 10000, 'accepted once the holder is gone');
      assert.ok(ok.json.messageId > 0);
      assert.equal(await stored(), before + 1, 'only the accepted one is stored');
    });

    it('REST: a chunked body takes its bytes as it grows, and is refused as busy (not waiting while it holds) when they are gone', async () => {
      const holder = openRequest(gw.url, SEND, { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY }, 900 * KiB, 10 * KiB);
      await new Promise((r) => setTimeout(r, 200));
      const body = Buffer.from(JSON.stringify({ ...direct, mailBody: 'x'.repeat(300 * KiB) }));
      const busy = await postChunked(gw.url, { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY }, body);
      holder.abort();
      assert.equal(busy.status, 503);
      assert.equal(busy.json.meta.responseStatus.code, 9);
    });

    it('bodies whose client is known only from the body share a small allowance: a second such body is busy, a known client is not', async () => {
      const holder = openRequest(gw.url, SEND, { 'content-type': 'application/json' }, 400 * KiB, 10 * KiB);
      await new Promise((r) => setTimeout(r, 200));
      const body = JSON.stringify({ ...direct, mailBody: 'x'.repeat(300 * KiB) });
      const anonymous = await postJson(gw.url, body);
      assert.equal(anonymous.status, 503, 'the anonymous allowance (512 KiB) is held by the first');
      assert.equal(anonymous.json.meta.responseStatus.code, 9);
      const known = await postJson(gw.url, body, { 'x-client-hash-key': DEMO_KEY });
      holder.abort();
      assert.equal(known.status, 200, known.text);
    });

    it('SOAP: a busy gateway answers a soap:Server Fault with 503 and Retry-After', async () => {
      const holder = openRequest(gw.url, SOAP, { 'content-type': 'text/xml; charset=utf-8', 'x-client-hash-key': DEMO_KEY }, 900 * KiB, 10 * KiB);
      await new Promise((r) => setTimeout(r, 200));
      const env = envelope('sendMail', { ...direct, mailBody: 'x'.repeat(300 * KiB) });
      const r = await fetch(`${gw.url}${SOAP}`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: env });
      const text = await r.text();
      holder.abort();
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.match(text, /<faultcode>soap:Server<\/faultcode><faultstring>the gateway is busy/);
      const ok = await eventually(async () => {
        const s = await postSoap(gw.url, env);
        return s.code === 0 && s;
      }, 10000, 'accepted once the holder is gone');
      assert.ok(ok.messageId! > 0);
    });

    it('AMQP: inflated bytes count against the budget: a gzip body that cannot find room is code 9 after its retries, stored nowhere', async () => {
      const before = await stored();
      const holder = openRequest(gw.url, SEND, { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY }, 900 * KiB, 10 * KiB);
      await new Promise((r) => setTimeout(r, 200));
      const gz = gzipSync(JSON.stringify({ ...direct, mailBody: 'x'.repeat(500 * KiB) }));
      const r = await producer.request(queue, gz, { contentEncoding: 'gzip' });
      holder.abort();
      assert.equal(r.json.meta.responseStatus.code, 9);
      assert.match(r.json.meta.responseStatus.messages[0].text, /busy/);
      assert.equal(await stored(), before);
    });

    it('AMQP: a gzip bomb stops at MAX_REQUEST_BYTES: code 5 naming the body, nothing stored', async () => {
      const before = await stored();
      const bomb = gzipSync(Buffer.alloc(20 * 1024 * KiB, 0x20));
      const r = await producer.request(queue, bomb, { contentEncoding: 'gzip' });
      assert.equal(r.json.meta.responseStatus.code, 5);
      assert.equal(r.json.meta.responseStatus.messages[0].field, 'body');
      assert.equal(await stored(), before);
    });
  });

  describe('JSON bodies are bounded in keys and depth before they are parsed: code 1 naming the body, 400', () => {
    // Short (repeated) keys: JSON allows them, and the body stays within this gateway's 1 MiB MAX_REQUEST_BYTES.
    const manyKeys = (n: number) => `{${'"k":0,'.repeat(n - 1)}"k":0}`;
    const deep = (n: number) => `{"clientHashKey":"${DEMO_KEY}","properties":${'['.repeat(n)}${']'.repeat(n)}}`;

    it('REST plain JSON with more than 100,000 keys', async () => {
      const r = await postJson(gw.url, manyKeys(100_001).replace('{', `{"clientHashKey":"${DEMO_KEY}",`), {});
      assert.equal(r.status, 400);
      assert.equal(r.json.meta.responseStatus.code, 1);
      assert.equal(r.json.meta.responseStatus.messages[0].field, '/');
      assert.match(r.json.meta.responseStatus.messages[0].text, /more than 100000 keys/);
    });

    it('REST JSON:API nested deeper than 64 levels', async () => {
      const r = await postJsonApi(gw.url, `{"data":{"type":"sendRequest","attributes":${deep(65)}}}`);
      assert.equal(r.status, 400);
      assert.equal(r.json.errors[0].source.pointer, '/');
      assert.match(r.json.errors[0].detail ?? r.json.errors[0].title, /nested deeper than 64 levels/);
    });

    it('a JSON:API batch within the bounds still parses (the bound is not the body size)', async () => {
      const items = Array.from({ length: 200 }, () => ({ type: 'sendRequest', attributes: { ...direct, properties: [{ key: 'a', value: 'b' }] } }));
      const r = await postJsonApi(gw.url, { data: items });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.data.length, 200);
    });

    it('the template API (management JSON bodies) too', async () => {
      const r = await api(gw.url, '/hammy/json/send/v2/templates/TEST.MAIL/preview', { key: DEMO_KEY, contentType: 'application/json', body: manyKeys(100_001) });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, 1);
      assert.equal(problemMessages(r.body)[0].field, '/');
    });

    it('AMQP JSON bodies too (code 1 naming the body)', async () => {
      const r = await producer.request(queue, deep(65));
      assert.equal(r.json.meta.responseStatus.code, 1);
      assert.equal(r.json.meta.responseStatus.messages[0].field, 'body');
      assert.match(r.json.meta.responseStatus.messages[0].text, /nested deeper than 64 levels/);
    });
  });
});
