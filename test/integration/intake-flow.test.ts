// Intake flow control from the wire (INTAKE_FLOW_*): while a worker holds jobs and more wait than the high water,
// a send is held back (at most INTAKE_FLOW_DELAY_MS) and then stored as usual; once the queue is short, sends
// go at once again. The backlog read behind it counts only due jobs, and a lock that timed out as waiting.
import assert from 'node:assert/strict';
import { createJobStore } from '../../src/store/jobs.js';
import { DEMO_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';

const request = (n: number) => ({ messageType: 'TEST.MAIL', recipientEmailAddress: `flow-${n}@example.com`, recipientName: 'Flow', xmlData: '<DATA><contractNumber>1</contractNumber><clientID>2</clientID></DATA>' });
const send = (url: string, n: number) => postJson(url, request(n), { 'x-client-hash-key': DEMO_KEY });

describe('intake flow control (INTAKE_FLOW_BACKLOG, INTAKE_FLOW_DELAY_MS)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  // No in-process worker: the test plays the worker by locking jobs itself.
  before(async () => {
    gw = await startTestGateway({ WORKER: 'false', INTAKE_FLOW_BACKLOG: '5', INTAKE_FLOW_DELAY_MS: '3000', INTAKE_FLOW_PROBE_MS: '20', JOB_LOCK_TIMEOUT_MS: '60000' });
  });
  after(async () => gw?.stop());

  const timedSend = async (n: number) => {
    const t0 = performance.now();
    const r = await send(gw.url, n);
    return { r, ms: performance.now() - t0 };
  };

  it('reads the backlog: due jobs waiting, jobs a worker holds, an expired lease as waiting, within the look limit', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await send(gw.url, i)).status, 200);
    const jobs = createJobStore(gw.db.knex);
    assert.deepEqual(await jobs.backlog(100), { waiting: 10, running: 0 });
    const ids = (await gw.db.knex('jobs').orderBy(['run_at', 'id']).select('id')).map((r) => r.id);
    await gw.db.knex('jobs').whereIn('id', ids.slice(0, 2)).update({ locked_by: 'test-worker', locked_at: gw.db.knex.fn.now(), lease_until: gw.db.knex.raw(`now() + interval '1 minute'`) });
    await gw.db.knex('jobs').where({ id: ids[2] }).update({ locked_by: 'dead-worker', locked_at: gw.db.knex.raw(`now() - interval '1 hour'`), lease_until: gw.db.knex.raw(`now() - interval '1 minute'`) });
    await gw.db.knex('jobs').where({ id: ids[3] }).update({ run_at: gw.db.knex.raw(`now() + interval '1 hour'`) });
    assert.deepEqual(await jobs.backlog(100), { waiting: 7, running: 2 });
    assert.deepEqual(await jobs.backlog(4), { waiting: 2, running: 2 }, 'only the first jobs in claim order are read');
  });

  it('holds a send while a worker is behind, stores it after the delay, and lets sends go at once when the queue is short', async () => {
    // From the test before: 7 due jobs wait (high water 5) and a worker holds 2. The first send only wakes the
    // flow control's first look; the next ones see a long queue. The last look (during the test before) must be
    // older than INTAKE_FLOW_PROBE_MS for a send to look again: on a fast machine the steps above take less.
    await new Promise((r) => setTimeout(r, 100));
    await timedSend(100);
    await eventually(async () => {
      const h = await (await fetch(`${gw.url}/health`)).json();
      return h.parts.intakeFlow.congested === true;
    }, 5000, 'the flow control to see the long queue');
    const held = await timedSend(101);
    assert.equal(held.r.status, 200, held.r.text);
    assert.ok(held.ms >= 2500, `held ${held.ms.toFixed(0)} ms, expected about 3000`);
    const row = await gw.db.knex('messages').where({ id: held.r.json.messageId }).first();
    assert.equal(row.recipient_email_address, 'flow-101@example.com');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^hammy_intake_flow_delays_total [1-9]/m);

    // The worker catches up: the queue is short again, and a held send goes on the next look.
    const pending = timedSend(102);
    await new Promise((r) => setTimeout(r, 200));
    await gw.db.knex('jobs').whereNull('locked_by').del();
    const released = await pending;
    assert.equal(released.r.status, 200);
    assert.ok(released.ms < 2500, `a send waited ${released.ms.toFixed(0)} ms after the queue was short`);
    const quick = await timedSend(103);
    assert.ok(quick.ms < 2500, `a send waited ${quick.ms.toFixed(0)} ms with a short queue`);
  });

  it('does not hold sends when no worker holds a job: waiting would not shorten the queue', async () => {
    await gw.db.knex('jobs').update({ locked_by: null, locked_at: null });
    for (let i = 200; i < 210; i++) await send(gw.url, i);
    await new Promise((r) => setTimeout(r, 100)); // a look at the long queue with nobody draining it
    const t = await timedSend(210);
    assert.equal(t.r.status, 200);
    assert.ok(t.ms < 2500, `waited ${t.ms.toFixed(0)} ms with no worker`);
    const h = await (await fetch(`${gw.url}/health`)).json();
    assert.equal(h.parts.intakeFlow.congested, false);
    assert.ok(h.parts.intakeFlow.waiting > 5);
  });
});
