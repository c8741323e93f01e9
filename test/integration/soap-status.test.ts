// getMessageStatus over SOAP (issue 18 point 4): a message's status and timeline, scoped to the calling client.
import assert from 'node:assert/strict';
import { keyHash } from '../../src/core/secrets.js';
import { DEMO_KEY, fixture, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

const OTHER_KEY = 'other-status-client-key';
const mail = { recipientEmailAddress: 'status@example.com', recipientName: 'S', mailSubject: 's', mailBody: 'b' };

describe('SOAP getMessageStatus', () => {
  let gw: TestGateway;
  let messageId: number;
  before(async () => {
    gw = await startTestGateway();
    await gw.db.knex('clients').insert({ key_hash: keyHash(OTHER_KEY), name: 'Other', default_from_address: 'other@example.com' });
    const sent = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, ...mail }));
    assert.equal(sent.code, 0, sent.raw);
    messageId = sent.messageId!;
    await waitForStatus(gw, messageId, 'SENT');
  });
  after(async () => gw?.stop());
  const status = (clientHashKey: string | undefined, messageId: string | undefined, headers: Record<string, string> = {}) =>
    postSoap(gw.url, envelope('getMessageStatus', { clientHashKey, messageId }), headers);
  const assertNotFound = (r: Awaited<ReturnType<typeof status>>) => {
    assert.equal(r.httpStatus, 200, r.raw);
    assert.equal(r.fault, undefined);
    assert.equal(r.code, 6, r.raw);
    assert.deepEqual(r.messages.map((m) => [m.code, m.field]), [[6, 'messageId']]);
    assert.equal(r.response!.messageStatus, undefined, r.raw);
    assert.equal(r.response!.events, undefined, r.raw);
  };

  it("a sent message: its status, final, channel and timeline as the store has them (README's envelope)", async () => {
    const r = await postSoap(gw.url, fixture('soap', 'status1.xml').replace('<messageId>1</messageId>', `<messageId>${messageId}</messageId>`));
    assert.equal(r.httpStatus, 200);
    assert.equal(r.code, 0, r.raw);
    assert.deepEqual(r.messages, []);
    assert.equal(r.messageId, messageId);
    assert.equal(r.response!.messageStatus, 'SENT');
    assert.equal(r.response!.final, 'true');
    assert.equal(r.response!.channel, 'EMAIL');
    const stored = await gw.db.knex('message_events').where({ message_id: messageId }).orderBy('id');
    const events = r.response!.events.event as { status: string; reason?: string; createdAt: string }[];
    assert.deepEqual(events.map((e) => e.status), stored.map((e) => e.status));
    assert.equal(events.at(-1)!.status, 'SENT');
    for (const [i, e] of events.entries()) assert.equal(new Date(e.createdAt).getTime(), new Date(stored[i]!.created_at).getTime());
  });

  it('code 6: another client asking for the message, exactly like an unknown one', async () => {
    assertNotFound(await status(OTHER_KEY, String(messageId)));
    assertNotFound(await status(DEMO_KEY, '999999999'));
  });

  it('code 2: an unknown client, in the body or in the X-Client-Hash-Key header', async () => {
    const r = await status('no-such-client', String(messageId));
    assert.equal(r.code, 2, r.raw);
    assert.equal(r.messages[0]!.field, 'clientHashKey');
    assert.equal(r.response!.messageStatus, undefined);
    const h = await status(undefined, String(messageId), { 'x-client-hash-key': 'no-such-client' });
    assert.match(h.raw, /getMessageStatusResponse/);
    assert.equal(h.code, 2, h.raw);
  });

  it('code 1: a missing or malformed messageId, or no clientHashKey, names the field', async () => {
    for (const [key, id, field] of [[DEMO_KEY, undefined, 'messageId'], [DEMO_KEY, 'abc', 'messageId'], [undefined, String(messageId), 'clientHashKey']] as const) {
      const r = await status(key, id);
      assert.equal(r.code, 1, r.raw);
      assert.deepEqual(r.messages.map((m) => m.field), [field], r.raw);
    }
  });
});
