// Per-client rate limit (issue 15 point 5): set through the admin API; over it REST answers 429 with Retry-After,
// SOAP and AMQP code 7 in their normal answer; a client without a limit is never throttled.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, problemMessages } from '../helpers/api.js';
import { AMQP_URL, Producer } from '../helpers/amqp.js';
import { DEMO_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson, postJsonApi, RESEND } from '../helpers/rest.js';
import { envelope, postSoap } from '../helpers/soap.js';

const TOKEN = 'test-admin-token-throttle-1';
const CLIENTS = '/hammy/admin/v1/clients';
const admin = { authorization: `Bearer ${TOKEN}` };
const direct = { recipientName: 'Lassú Ügyfél', recipientEmailAddress: 'lassu@example.com', mailSubject: 'Helló', mailBody: 'levél' };
/** Back-to-back requests at one per second: one of the first few must find the second's allowance used up. */
const TRIES = 10;

describe('per-client rate limit', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let producer: Producer;
  let queue: string;
  let limited: { id: string; key: string };

  const newClient = async (rateLimitPerSecond?: number | null) => {
    const r = await api(gw.url, CLIENTS, { headers: admin, body: { data: { type: 'clients', attributes: { name: 'Lassú', defaultFromAddress: 'lassu@example.com', rateLimitPerSecond } } } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { id: r.body.data.id as string, key: r.body.data.attributes.hashKey as string, attributes: r.body.data.attributes };
  };
  const messagesOf = async (clientId: string) => Number((await gw.db.knex('messages').where({ client_id: Number(clientId) }).count('* as n').first())!.n);

  before(async () => {
    queue = `test.throttle.${randomBytes(4).toString('hex')}`;
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, AMQP_URL, AMQP_QUEUE: queue, AMQP_REPLY_EXCHANGE: `${queue}.reply` });
    producer = await Producer.open();
    await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'amqp consuming');
    limited = await newClient(1);
  });
  after(async () => {
    await producer?.removeAndClose(queue);
    await gw?.stop();
  });

  it('the admin API sets, shows and clears rateLimitPerSecond; unlimited is the default; a bad value names the field', async () => {
    const plain = await newClient();
    assert.equal(plain.attributes.rateLimitPerSecond, null, 'unlimited by default');
    const set = await api(gw.url, `${CLIENTS}/${plain.id}`, { method: 'PATCH', headers: admin, body: { data: { type: 'clients', attributes: { rateLimitPerSecond: 50 } } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal((await api(gw.url, `${CLIENTS}/${plain.id}`, { headers: admin })).body.data.attributes.rateLimitPerSecond, 50);
    const bad = await api(gw.url, `${CLIENTS}/${plain.id}`, { method: 'PATCH', headers: admin, body: { data: { type: 'clients', attributes: { rateLimitPerSecond: 0 } } } });
    assert.equal(bad.status, 400);
    assert.equal(problemMessages(bad.body)[0]!.field, 'rateLimitPerSecond');
    const cleared = await api(gw.url, `${CLIENTS}/${plain.id}`, { method: 'PATCH', headers: admin, body: { data: { type: 'clients', attributes: { rateLimitPerSecond: null } } } });
    assert.equal(cleared.body.data.attributes.rateLimitPerSecond, null);
  });

  it('REST: over the limit is 429, code 7, with Retry-After in seconds, and nothing is stored', async () => {
    const before = await messagesOf(limited.id);
    const statuses: number[] = [];
    let refused;
    for (let i = 0; i < TRIES && !refused; i++) {
      const r = await postJson(gw.url, direct, { 'X-Client-Hash-Key': limited.key });
      statuses.push(r.status);
      if (r.status !== 200) refused = r;
    }
    assert.ok(refused, `no request was throttled: ${statuses.join(',')}`);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.meta.responseStatus.code, 7);
    assert.match(refused.json.meta.responseStatus.messages[0].text, /throttled, retry later/);
    assert.match(refused.headers.get('retry-after')!, /^[1-9]\d*$/);
    assert.equal(await messagesOf(limited.id), before + statuses.filter((s) => s === 200).length, 'a throttled request stores nothing');
  });

  it('REST: each item of a JSON:API batch counts, and a resend counts too', async () => {
    const items = Array.from({ length: 4 }, (_, i) => ({ type: 'sendRequest', id: `i${i}`, attributes: { ...direct, recipientAddress: direct.recipientEmailAddress } }));
    const batch = await postJsonApi(gw.url, { data: items }, { 'X-Client-Hash-Key': limited.key });
    // Every item refused (the allowance was used up already) is a 429 with errors only; else data holds each item.
    const codes = batch.json.data ? batch.json.data.map((d: any) => d.meta.responseStatus.code) : batch.json.errors.map((e: any) => Number(e.code));
    if (!batch.json.data) assert.equal(batch.status, 429);
    assert.ok(codes.includes(7), `a 1/s client sending 4 items at once is throttled on some: ${codes}`);
    let code;
    for (let i = 0; i < TRIES && code !== 7; i++) {
      code = (await postJson(gw.url, { messageId: 1 }, { 'X-Client-Hash-Key': limited.key }, RESEND)).json.meta.responseStatus.code;
    }
    assert.equal(code, 7, 'resend is throttled like send');
  });

  it('SOAP: over the limit the normal response carries status code 7', async () => {
    let r;
    for (let i = 0; i < TRIES && r?.code !== 7; i++) r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: limited.key, ...direct }));
    assert.equal(r!.httpStatus, 200, r!.raw);
    assert.equal(r!.fault, undefined);
    assert.equal(r!.code, 7, r!.raw);
    assert.equal(r!.messages[0]!.code, 7);
    assert.match(r!.messages[0]!.text, /throttled, retry later/);
  });

  it('AMQP: over the limit the reply carries status code 7', async () => {
    let reply;
    for (let i = 0; i < TRIES && reply?.json.meta.responseStatus.code !== 7; i++) {
      reply = await producer.request(queue, JSON.stringify(direct), { headers: { 'X-Client-Hash-Key': limited.key } });
    }
    assert.equal(reply!.json.meta.responseStatus.code, 7, reply!.body);
    assert.match(reply!.json.meta.responseStatus.messages[0].text, /throttled, retry later/);
  });

  it('a client without a limit is never throttled: a batch of 30 and 30 requests in a row all pass', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ type: 'sendRequest', id: `u${i}`, attributes: { ...direct, recipientAddress: direct.recipientEmailAddress } }));
    const batch = await postJsonApi(gw.url, { data: items }, { 'X-Client-Hash-Key': DEMO_KEY });
    assert.equal(batch.status, 200);
    assert.deepEqual(new Set(batch.json.data.map((d: any) => d.meta.responseStatus.code)), new Set([0]));
    const singles = await Promise.all(Array.from({ length: 30 }, () => postJson(gw.url, direct, { 'X-Client-Hash-Key': DEMO_KEY })));
    assert.deepEqual(new Set(singles.map((r) => r.status)), new Set([200]));
  });
});
