// Operating the gateway: Prometheus metrics, and SIGTERM draining what is in flight.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AMQP_URL, Producer } from '../helpers/amqp.js';
import { DEMO_KEY, PG_URL, eventually, fixture, startTestGateway, tempDir, waitForStatus } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';
import { recordScenario } from './results.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const metric = (text: string, name: string, labels: Record<string, string>) => {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : undefined;
};

describe('reliability: operation', function () {
  this.timeout(60000);

  it('/metrics: accepted and rejected per intake and code, deliveries per channel, queue depth and age, latency', async () => {
    const queue = `ops.${randomBytes(3).toString('hex')}`;
    const gw = await startTestGateway({ AMQP_URL, AMQP_QUEUE: queue });
    const producer = await Producer.open();
    try {
      await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'consuming');
      const ok = await postSoap(gw.url, fixture('soap', 'sample1.xml'));
      await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'nobody' }));
      await fetch(`${gw.url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': DEMO_KEY }, body: JSON.stringify({ recipientName: 'x' }) });
      await producer.request(queue, JSON.stringify({ recipientEmailAddress: 'm@example.com', recipientName: 'M', mailSubject: 's', mailBody: 'b' }));
      await waitForStatus(gw, ok.messageId!, 'SENT');
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      assert.equal(metric(text, 'hammy_requests_total', { intake: 'soap', code: '0' }), 1);
      assert.equal(metric(text, 'hammy_requests_total', { intake: 'soap', code: '2' }), 1);
      assert.equal(metric(text, 'hammy_requests_total', { intake: 'rest', code: '1' }), 1);
      assert.equal(metric(text, 'hammy_requests_total', { intake: 'amqp', code: '0' }), 1);
      assert.ok((metric(text, 'hammy_deliveries_total', { channel: 'EMAIL', outcome: 'sent' }) ?? 0) >= 1);
      assert.match(text, /^hammy_queue_depth \d+/m);
      assert.match(text, /^hammy_oldest_job_age_seconds [\d.]+/m);
      assert.match(text, /^hammy_request_duration_seconds_bucket\{.*intake="soap"/m);
      assert.match(text, /^hammy_process_resident_memory_bytes /m);
    } finally {
      await producer.ch.deleteQueue(queue).catch(() => undefined);
      await producer.ch.deleteQueue(`${queue}.dead`).catch(() => undefined);
      await producer.close();
      await gw.stop();
    }
  });

  it('SIGTERM under load: every answered request is stored, nothing half-answered, exit 0', async () => {
    const schema = `sig_${randomBytes(4).toString('hex')}`;
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: PG_URL, DB_SCHEMA: schema, FIXTURES: 'demo', AMQP_URL: 'off', DATA_DIR: tempDir(), LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/health`).catch(() => undefined))?.status === 200, 30000, 'up');
    // 40 requests in flight on 10 connections; SIGTERM once the first answers are back, while the rest are on their way.
    let answers = 0;
    const send = (i: number) =>
      postSoap(url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: `t${i}@example.com`, recipientName: 'T', mailSubject: `term ${i}`, mailBody: 'b' })).then(
        (r) => {
          if (++answers === 5) child.kill('SIGTERM');
          return r;
        },
        () => 'refused' as const,
      );
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i)));
    const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
    const answered = results.filter((r): r is Exclude<typeof r, 'refused'> => r !== 'refused');
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const ids = answered.filter((r) => r.code === 0).map((r) => r.messageId);
      const stored = (await c.query(`select id from ${schema}.messages where id = any($1)`, [ids])).rows.length;
      recordScenario('SIGTERM under load (SOAP)', { requests: 40, answered: answered.length, refusedAtTheDoor: 40 - answered.length, storedOfAnswered: stored, exitCode: code, lost: ids.length - stored });
      assert.equal(code, 0);
      for (const r of answered) assert.ok(r.code === 0 || r.code === 9, r.raw);
      assert.equal(stored, ids.length, 'every request answered 0 was stored');
      assert.ok(answered.length > 5, 'requests in flight at SIGTERM were answered, not cut');
    } finally {
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  });
});
