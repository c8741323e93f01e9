// The delivery worker on a thread of the gateway process (WORKER_THREAD): woken by what the intake stores, its
// outcomes in the gateway's /metrics, started again when it dies (its held job delivered after the lock expires),
// and stopped with the gateway only after the delivery in flight is recorded.
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startDeliveryOnThread } from '../../src/gateway/delivery.js';
import { DEMO_KEY, PG_URL, eventually, startTestGateway, waitForStatus, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';

const request = (n: number) => ({ recipientEmailAddress: `thread-${n}@example.com`, recipientName: 'Thread', mailSubject: `thread ${n}`, mailBody: 'b' });
const send = async (gw: TestGateway, n: number): Promise<number> => {
  const r = await postJson(gw.url, request(n), { 'x-client-hash-key': DEMO_KEY });
  assert.equal(r.status, 200, r.text);
  return r.json.messageId;
};
const health = async (gw: TestGateway) => (await (await fetch(`${gw.url}/health`)).json()).parts;
const lockedBy = async (gw: TestGateway, messageId: number) => (await gw.db.knex('jobs').where({ message_id: messageId }).first())?.locked_by;

describe('the delivery thread (WORKER_THREAD)', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    // A long poll: a delivery within it shows the thread was woken by the store, not found by polling.
    gw = await startTestGateway({ WORKER_THREAD: 'true', WORKER_POLL_MS: '20000', JOB_LOCK_TIMEOUT_MS: '2000' });
  });
  after(async () => gw?.stop());

  it('delivers on its own thread, woken by each stored message, and its outcomes count in /metrics', async () => {
    assert.equal(gw.worker, undefined, 'no worker on the gateway thread');
    assert.ok(gw.deliveryThread?.thread(), 'a running thread');
    assert.equal((await health(gw)).worker, 'running on its own thread');
    const ids = [await send(gw, 1), await send(gw, 2)];
    for (const id of ids) await waitForStatus(gw, id, 'SENT', 5000);
    assert.deepEqual(gw.smtp.received.map((m) => m.mail.subject).sort(), ['thread 1', 'thread 2']);
    await eventually(async () => /^hammy_deliveries_total\{channel="EMAIL",outcome="sent"\} 2$/m.test(await (await fetch(`${gw.url}/metrics`)).text()), 5000, 'the thread to report its outcomes');
    // The thread reads no clients or templates through the lookup cache: only the intake thread listens for changes.
    await eventually(async () => (await health(gw)).lookupCache.listener === 'connected', 5000, 'the listener');
    const listeners = await gw.db.knex('pg_stat_activity').where('application_name', 'like', `hammy-lookups ${gw.schema} %`).count('* as n');
    assert.equal(Number(listeners[0]!.n), 1);
  });

  it('a thread that dies is started again, and the job it held is delivered once its lock expires', async () => {
    gw.smtp.script = { delayMs: 1500 };
    const id = await send(gw, 3);
    await eventually(async () => lockedBy(gw, id), 5000, 'the thread to take the job');
    const dead = gw.deliveryThread!.thread()!;
    await dead.terminate();
    assert.equal((await health(gw)).worker, 'restarting on its own thread');
    gw.smtp.script = {};
    await eventually(async () => gw.deliveryThread!.thread() && gw.deliveryThread!.thread() !== dead, 10000, 'a new thread');
    assert.equal((await health(gw)).worker, 'running on its own thread');
    // The new thread polls every 20 s: a send wakes it, and it takes the stale job once its lock has expired.
    await new Promise((r) => setTimeout(r, 2100));
    await waitForStatus(gw, await send(gw, 4), 'SENT', 5000);
    await waitForStatus(gw, id, 'SENT', 10000);
    assert.ok(gw.smtp.received.some((m) => m.mail.subject === 'thread 3'));
  });

  it('stops with the gateway after the delivery in flight is recorded', async () => {
    gw.smtp.script = { delayMs: 1000 };
    const id = await send(gw, 5);
    await eventually(async () => lockedBy(gw, id), 5000, 'the thread to take the job');
    const thread = gw.deliveryThread!.thread()!;
    const exited = new Promise((r) => thread.once('exit', r));
    await gw.halt();
    await exited;
    assert.equal(gw.deliveryThread!.state(), 'stopped');
    // The gateway's pool is closed now: read through a connection of our own.
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const { rows } = await c.query(`select status from ${gw.schema}.messages where id = $1`, [id]);
      assert.equal(rows[0].status, 'SENT');
      assert.equal((await c.query(`select count(*)::int as n from ${gw.schema}.jobs`)).rows[0].n, 0);
    } finally {
      await c.end();
    }
  });

  it('a thread that cannot start fails the start with its reason, and is not started again', async () => {
    const logged: string[] = [];
    // The thread makes its own logger at this level; an unknown level makes it fail before it is ready.
    const log = { level: 'no-such-level', info: (_o: unknown, m: string) => logged.push(m), error: (_o: unknown, m: string) => logged.push(m) } as unknown as Logger;
    const config = loadConfig({ DATABASE_URL: PG_URL, DB_SCHEMA: gw.schema, AMQP_URL: 'off' });
    await assert.rejects(startDeliveryOnThread(config, log), /^Error: delivery thread could not start: .*no-such-level/);
    await new Promise((r) => setTimeout(r, 1500)); // longer than the first restart would wait
    assert.deepEqual(logged, []);
  });
});
