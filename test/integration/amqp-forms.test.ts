// One codec per body form (issue 17): a JSON:API or plain JSON request over AMQP is read exactly as over REST, so
// a JSON:API resend takes the resend resource types, and a JSON null means "not given" on both intakes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEMO_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AMQP_URL, Producer } from '../helpers/amqp.js';
import { postJson, postJsonApi, RESEND } from '../helpers/rest.js';

const JSONAPI = 'application/vnd.api+json';
const direct = { recipientName: 'Forma Ferenc', recipientEmailAddress: 'forma@example.com', mailSubject: 'Forma', mailBody: 'levél' };

describe('AMQP and REST read a body form with one codec', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let producer: Producer;
  let queue: string;
  const key = { 'X-Client-Hash-Key': DEMO_KEY };
  const sent = async () => (await postJson(gw.url, direct, key)).json.messageId as number;
  const resendOverAmqp = (body: unknown, contentType: string) => producer.request(queue, JSON.stringify(body), { method: 'Send_V2_Resend', contentType });
  const stored = (id: number) => gw.db.knex('messages').where({ id }).first('recipient_email_address', 'related_message_id', 'user_name');

  before(async () => {
    queue = `test.forms.${randomBytes(4).toString('hex')}`;
    gw = await startTestGateway({ AMQP_URL, AMQP_QUEUE: queue, AMQP_REPLY_EXCHANGE: `${queue}.reply` });
    producer = await Producer.open();
    await eventually(async () => (await fetch(`${gw.url}/health/ready`)).status === 200, 15000, 'ready');
  });
  after(async () => {
    await producer?.removeAndClose(queue);
    await gw?.stop();
  });

  it('a JSON:API resend (type resendRequest) is accepted over AMQP as over REST', async () => {
    const doc = (messageId: number) => ({ data: { type: 'resendRequest', attributes: { messageId, recipientEmailAddress: 'javitott@example.com' } } });
    const original = await sent();
    const rest = await postJsonApi(gw.url, doc(original), key, RESEND);
    const amqp = await resendOverAmqp(doc(original), JSONAPI);
    assert.equal(rest.status, 200, rest.text);
    assert.equal(amqp.json.meta.responseStatus.code, 0, amqp.body);
    assert.equal(amqp.json.data.type, 'sendResponse');
    const copy = await stored(Number(amqp.json.data.id));
    assert.deepEqual([copy.recipient_email_address, Number(copy.related_message_id)], ['javitott@example.com', original]);
  });

  it('a JSON:API resend with a send resource type is refused alike: code 1 at /data/type', async () => {
    const original = await sent();
    const doc = { data: { type: 'sendRequest', attributes: { messageId: original } } };
    const rest = await postJsonApi(gw.url, doc, key, RESEND);
    const amqp = await resendOverAmqp(doc, JSONAPI);
    assert.equal(rest.status, 400);
    assert.deepEqual(amqp.json.errors, rest.json.errors);
    assert.deepEqual(amqp.json.errors.map((e: any) => e.source.pointer), ['/data/type']);
    assert.equal(amqp.json.meta.responseStatus.code, 1);
  });

  it('JSON nulls mean "not given" in a plain JSON resend over AMQP, as over REST', async () => {
    const original = await sent();
    const body = { messageId: original, recipientEmailAddress: null, userName: null, requestId: null };
    const rest = await postJson(gw.url, body, { ...key, 'X-User-Name': 'fejléc' }, RESEND);
    const amqp = await resendOverAmqp(body, 'application/json');
    assert.equal(rest.status, 200, rest.text);
    assert.equal(amqp.json.meta.responseStatus.code, 0, amqp.body);
    const copy = await stored(amqp.json.messageId);
    assert.equal(copy.recipient_email_address, 'forma@example.com', 'null kept the original address');
    assert.equal((await stored(rest.json.messageId)).user_name, 'fejléc', "REST: null userName leaves the header's");
  });

  it('JSON nulls mean "not given" in a JSON:API resend over AMQP too', async () => {
    const original = await sent();
    const amqp = await resendOverAmqp({ data: { type: 'resendRequest', attributes: { messageId: original, recipientEmailAddress: null } } }, JSONAPI);
    assert.equal(amqp.json.meta.responseStatus.code, 0, amqp.body);
    assert.equal((await stored(Number(amqp.json.data.id))).recipient_email_address, 'forma@example.com');
  });
});
