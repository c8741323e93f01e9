// The accept write under load (group commit) on a real PostgreSQL: each caller gets the id of its own message,
// a bad message fails alone, and one IDEMPOTENCY_KEY in one burst still makes exactly one message.
import assert from 'node:assert/strict';
import type { NewMessage } from '../../src/core/ports.js';
import { createSendStore } from '../../src/store/send-store.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const message = (subject: string, over: Partial<NewMessage> = {}): NewMessage => ({
  clientId: 1,
  channel: 'EMAIL',
  subject,
  textBody: `body of ${subject}`,
  htmlBody: null,
  recipientName: 'Batch',
  recipientEmailAddress: `${subject}@example.com`,
  fromAddress: 'noreply@example.com',
  archivingExpected: false,
  certificationExpected: false,
  replyEnvelopeAttached: false,
  paymentSlipAttached: false,
  properties: [{ key: 'n', value: subject }],
  params: [],
  attachments: [],
  intake: 'rest',
  correlationId: `c-${subject}`,
  ...over,
});
const noKeys = { payloadHash: '', windowMs: 3600_000 };

describe('accept writes shared by a burst (group commit)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ WORKER: 'false' });
  });
  after(async () => gw?.stop());

  it('60 concurrent messages: every answer is the id of that very message, with its events and job', async () => {
    const store = createSendStore(gw.db.knex, { batch: { maxBatch: 16, maxConcurrent: 2 } });
    const subjects = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    const results = await Promise.all(subjects.map((s) => store.storeMessage(message(s), noKeys)));
    assert.equal(new Set(results.map((r) => r.messageId)).size, 60);
    for (const [i, r] of results.entries()) {
      const row = await gw.db.knex('messages').where({ id: r.messageId }).first();
      assert.deepEqual([row.subject, row.recipient_email_address, row.properties[0].value, row.status], [subjects[i], `${subjects[i]}@example.com`, subjects[i], 'QUEUED']);
      const events = await gw.db.knex('message_events').where({ message_id: r.messageId }).orderBy('id').select('status', 'reason');
      assert.deepEqual(events, [{ status: 'RECEIVED', reason: 'via rest' }, { status: 'QUEUED', reason: null }]);
      assert.equal((await gw.db.knex('jobs').where({ message_id: r.messageId })).length, 1);
    }
  });

  it('a message the database refuses fails alone; the burst it shared a statement with is stored', async () => {
    const store = createSendStore(gw.db.knex, { batch: { maxBatch: 50, maxConcurrent: 1 } });
    const burst = Array.from({ length: 12 }, (_, i) => message(`mixed-${i}`, i === 5 ? { clientId: 999999 } : {}));
    const results = await Promise.allSettled(burst.map((m) => store.storeMessage(m, noKeys)));
    assert.equal(results[5]!.status, 'rejected');
    assert.match(String((results[5] as PromiseRejectedResult).reason), /foreign key/);
    const stored = results.filter((r): r is PromiseFulfilledResult<{ messageId: number; duplicate: boolean }> => r.status === 'fulfilled');
    assert.equal(stored.length, 11);
    const subjects = (await gw.db.knex('messages').whereIn('id', stored.map((r) => r.value.messageId)).orderBy('id').pluck('subject')) as string[];
    assert.deepEqual(subjects.sort(), burst.filter((_, i) => i !== 5).map((m) => m.subject).sort());
    assert.equal((await gw.db.knex('messages').where({ subject: 'mixed-5' })).length, 0);
  });

  it('one IDEMPOTENCY_KEY eight times in one burst: one message, every answer names it, seven say duplicate', async () => {
    const store = createSendStore(gw.db.knex, { batch: { maxBatch: 50, maxConcurrent: 1 } });
    const keys = { payloadHash: 'same-payload', idempotencyKey: 'burst-key-1', windowMs: 3600_000 };
    // The first goes alone; the others queue behind it and share one statement.
    const results = await Promise.all(Array.from({ length: 8 }, () => store.storeMessage(message('keyed'), keys)));
    assert.equal(new Set(results.map((r) => r.messageId)).size, 1);
    assert.equal(results.filter((r) => r.duplicate).length, 7);
    assert.equal((await gw.db.knex('messages').where({ subject: 'keyed' })).length, 1);
  });

  it('a key already used with another payload is still refused when the request came in a burst', async () => {
    const store = createSendStore(gw.db.knex, { batch: { maxBatch: 50, maxConcurrent: 1 } });
    const first = await store.storeMessage(message('key-first'), { payloadHash: 'payload-a', idempotencyKey: 'burst-key-2', windowMs: 3600_000 });
    const results = await Promise.allSettled([
      store.storeMessage(message('other-a'), noKeys),
      store.storeMessage(message('key-second'), { payloadHash: 'payload-b', idempotencyKey: 'burst-key-2', windowMs: 3600_000 }),
      store.storeMessage(message('other-b'), noKeys),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), new RegExp(`already used for message ${first.messageId}`));
    assert.equal((await gw.db.knex('messages').where({ subject: 'key-second' })).length, 0);
  });
});
