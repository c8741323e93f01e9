// Every intake bounds every stored string (issue 15 point 5): X-Origin, X-Issuer and the idempotency key over
// SOAP and AMQP as over REST, and property and param values and counts in every request; refused by name, nothing stored.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AMQP_URL, Producer } from '../helpers/amqp.js';
import { DEMO_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';
import { envelope, postSoap } from '../helpers/soap.js';

const direct = { recipientName: 'Határ Ernő', recipientEmailAddress: 'hatar@example.com', mailSubject: 'Helló', mailBody: 'levél' };
const soapSend = (headers: Record<string, string> = {}, rawXml: Record<string, string> = {}) =>
  postSoap(envelopeUrl, envelope('sendMail', { clientHashKey: DEMO_KEY, ...direct }, rawXml), headers);
let envelopeUrl = '';

describe('bounds of stored strings on every intake', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let producer: Producer;
  let queue: string;
  const stored = async () => Number((await gw.db.knex('messages').count('* as n').first())!.n);

  before(async () => {
    queue = `test.bounds.${randomBytes(4).toString('hex')}`;
    gw = await startTestGateway({ AMQP_URL, AMQP_QUEUE: queue, AMQP_REPLY_EXCHANGE: `${queue}.reply` });
    envelopeUrl = gw.url;
    producer = await Producer.open();
    await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'amqp consuming');
  });
  after(async () => {
    await producer?.removeAndClose(queue);
    await gw?.stop();
  });

  it('SOAP: X-Origin and X-Issuer over 255 characters answer code 1 naming each header; 255 are taken', async () => {
    const before = await stored();
    // 10 kB: Node's HTTP parser itself refuses headers over 16 kB in all (431).
    const r = await soapSend({ 'X-Origin': 'o'.repeat(10_000), 'X-Issuer': 'i'.repeat(256) });
    assert.equal(r.code, 1, r.raw);
    assert.deepEqual(r.messages.map((m) => m.field), ['X-Origin', 'X-Issuer']);
    assert.match(r.messages[0]!.text, /at most 255 characters/);
    assert.equal(await stored(), before, 'nothing stored');
    const ok = await soapSend({ 'X-Origin': 'o'.repeat(255) });
    assert.equal(ok.code, 0, ok.raw);
    assert.equal((await gw.db.knex('messages').where({ id: ok.messageId }).first()).origin.length, 255);
  });

  // (message_id is an AMQP shortstr: the protocol itself keeps it within 255 bytes.)
  it('AMQP: a 50 kB X-Origin header and an X-Issuer over 255 characters answer code 1 naming each', async () => {
    const before = await stored();
    const r = await producer.request(queue, JSON.stringify(direct), { headers: { 'X-Origin': 'o'.repeat(50_000), 'X-Issuer': 'i'.repeat(300) } });
    assert.equal(r.json.meta.responseStatus.code, 1, r.body);
    assert.deepEqual(r.json.meta.responseStatus.messages.map((m: any) => m.field), ['X-Origin', 'X-Issuer']);
    assert.equal(await stored(), before, 'nothing stored');
  });

  it('AMQP: a NUL character in X-Origin is code 1, not an internal error', async () => {
    const r = await producer.request(queue, JSON.stringify(direct), { headers: { 'X-Origin': 'crm\u0000prod' } });
    assert.equal(r.json.meta.responseStatus.code, 1, r.body);
    assert.equal(r.json.meta.responseStatus.messages[0].field, 'X-Origin');
  });

  it('property and param values over 4000 characters, and more than 100 of them, are code 1 naming the field', async () => {
    const before = await stored();
    const soap = await soapSend({}, { properties: `<property><key>NOTE</key><value>${'v'.repeat(4001)}</value></property>` });
    assert.equal(soap.code, 1, soap.raw);
    assert.equal(soap.messages[0]!.field, 'properties[0].value');
    assert.match(soap.messages[0]!.text, /at most 4000 characters/);
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `K${i}`, value: 'x' }));
    const amqp = await producer.request(queue, JSON.stringify({ ...direct, params }));
    assert.equal(amqp.json.meta.responseStatus.code, 1, amqp.body);
    assert.equal(amqp.json.meta.responseStatus.messages[0].field, 'params');
    const rest = await postJson(gw.url, { ...direct, params: [{ key: 'NOTE', value: 'p'.repeat(4001) }] }, { 'X-Client-Hash-Key': DEMO_KEY });
    assert.equal(rest.status, 400, rest.text);
    assert.equal(rest.json.meta.responseStatus.messages[0].field, 'params[0].value');
    assert.equal(await stored(), before, 'nothing stored');
  });
});
