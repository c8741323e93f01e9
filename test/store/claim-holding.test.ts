// Claiming due jobs (store/jobs.ts claimDueJobs): an expired lease is taken over, but never by the worker that is
// still delivering or settling that job (a database away longer than the lease would have it send the job twice).
import assert from 'node:assert/strict';
import { createJobStore } from '../../src/store/jobs.js';
import { DEMO_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

describe('claiming jobs whose lease expired', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ WORKER: 'false' });
  });
  after(async () => gw?.stop());

  it('another worker takes it over; the worker still holding it does not take it back', async () => {
    const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientName: 'Lease', recipientEmailAddress: 'lease@example.com', mailSubject: 's', mailBody: 'b' }));
    assert.equal(r.code, 0, r.raw);
    const jobs = createJobStore(gw.db.knex);
    const [first] = await jobs.claimDueJobs('worker-a', 10, 30_000);
    assert.equal(first!.messageId, r.messageId);
    const expire = () => gw.db.knex('jobs').where({ id: first!.id }).update({ lease_until: gw.db.knex.raw("now() - interval '1 second'") });
    await expire();
    assert.deepEqual(await jobs.claimDueJobs('worker-a', 10, 30_000, [first!.id]), [], 'the worker still holding it leaves it');
    const [taken] = await jobs.claimDueJobs('worker-b', 10, 30_000);
    assert.equal(taken!.id, first!.id);
    assert.equal(taken!.takenFrom, 'worker-a');
    await expire();
    // A worker that no longer holds it (its delivery ended without a settle) may take its own job back.
    const [again] = await jobs.claimDueJobs('worker-a', 10, 30_000, []);
    assert.equal(again!.id, first!.id);
  });
});
