// A step's event recorded once per message (ARCHIVED before SENT): workers that record it at the same time,
// as two that both ran the archive step of one message after a lease was taken over, leave one event and no error.
import assert from 'node:assert/strict';
import { createJobStore } from '../../src/store/jobs.js';
import { DEMO_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

describe('an event recorded once (store/jobs.ts recordEventOnce)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ WORKER: 'false', DB_POOL_MAX: '10' });
  });
  after(async () => gw?.stop());

  it('20 concurrent records of ARCHIVED for one message: all succeed, one event, the status ARCHIVED', async () => {
    const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'Egyszer', recipientEmailAddress: 'once@example.com', mailSubject: 's', mailBody: 'b', archivingExpected: 'true' }));
    assert.equal(r.code, 0, r.raw);
    // Stores of their own, as separate workers have: each records on its own connection from the pool.
    const workers = Array.from({ length: 20 }, () => createJobStore(gw.db.knex));
    const results = await Promise.allSettled(workers.map((w) => w.recordEventOnce(r.messageId!, 'ARCHIVED', 'archived')));
    assert.deepEqual(results.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason)), []);
    const events = await gw.db.knex('message_events').where({ message_id: r.messageId, status: 'ARCHIVED' });
    assert.equal(events.length, 1);
    assert.equal((await gw.db.knex('messages').where({ id: r.messageId }).first('status')).status, 'ARCHIVED');
  });

  it('the unique index refuses a second ARCHIVED event however it is written; other statuses repeat freely', async () => {
    const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'Index', recipientEmailAddress: 'index@example.com', mailSubject: 's', mailBody: 'b' }));
    await gw.db.knex('message_events').insert({ message_id: r.messageId, status: 'ARCHIVED', reason: 'first' });
    await assert.rejects(gw.db.knex('message_events').insert({ message_id: r.messageId, status: 'ARCHIVED', reason: 'second' }), /message_events_archived_once/);
    await gw.db.knex('message_events').insert([{ message_id: r.messageId, status: 'RETRYING', reason: 'a' }, { message_id: r.messageId, status: 'RETRYING', reason: 'b' }]);
  });
});
