// Several workers on one database (npm run worker scales out): every message delivered exactly once.
import assert from 'node:assert/strict';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { DEMO_KEY, PG_URL, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';

describe('several delivery workers share one queue', function () {
  this.timeout(60000);
  let gw: TestGateway;
  const extra: Gateway[] = [];
  before(async () => {
    gw = await startTestGateway({ WORKER_CONCURRENCY: '4' });
    for (let i = 0; i < 2; i++) {
      const config = loadConfig({
        DATABASE_URL: PG_URL,
        DB_SCHEMA: gw.schema,
        DATA_DIR: gw.dataDir,
        SMTP_URL: gw.smtp.url,
        AMQP_URL: 'off',
        WORKER_POLL_MS: '20',
        WORKER_CONCURRENCY: '4',
      });
      extra.push(await startGateway(config, { http: false, worker: true, log: pino({ level: 'silent' }) }));
    }
  });
  after(async () => {
    for (const g of extra) await g.stop();
    await gw?.stop();
  });

  it('60 messages accepted while three workers claim: 60 mails, no duplicates, all SENT', async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        postSoap(gw.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: `w${i}@example.com`, recipientName: 'W', mailSubject: `worker ${i}`, mailBody: 'b' })),
      ),
    );
    assert.deepEqual(new Set(answers.map((a) => a.code)), new Set([0]));
    await gw.smtp.waitFor(60, 30000);
    await eventually(async () => Number((await gw.db.knex('messages').where({ status: 'SENT' }).count('* as n'))[0]!.n) === 60, 20000, 'all SENT');
    await new Promise((r) => setTimeout(r, 300));
    const subjects = gw.smtp.received.map((m) => m.mail.subject);
    assert.equal(subjects.length, 60);
    assert.equal(new Set(subjects).size, 60);
    const sentEvents = Number((await gw.db.knex('message_events').where({ status: 'SENT' }).count('* as n'))[0]!.n);
    assert.equal(sentEvents, 60);
    assert.equal(Number((await gw.db.knex('jobs').count('* as n'))[0]!.n), 0);
  });

  it('a job whose worker died (stale lock) is taken over by another worker, once', async () => {
    const intake = await startTestGateway({ WORKER: 'false' });
    try {
      const r = await postSoap(intake.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: 'stale@example.com', recipientName: 'S', mailSubject: 'stale', mailBody: 'b' }));
      // A worker locked the job and died before settling it.
      await intake.db.knex('jobs').where({ message_id: r.messageId }).update({ locked_by: 'dead-worker', locked_at: intake.db.knex.raw(`now() - interval '10 seconds'`), attempts: 1 });
      const config = loadConfig({ DATABASE_URL: PG_URL, DB_SCHEMA: intake.schema, DATA_DIR: intake.dataDir, SMTP_URL: intake.smtp.url, AMQP_URL: 'off', WORKER_POLL_MS: '20', JOB_LOCK_TIMEOUT_MS: '5000' });
      const rescuer = await startGateway(config, { http: false, worker: true, log: pino({ level: 'silent' }) });
      try {
        await eventually(async () => (await intake.db.knex('messages').where({ id: r.messageId }).first()).status === 'SENT', 20000, 'taken over');
        assert.equal(intake.smtp.received.filter((m) => m.mail.subject === 'stale').length, 1);
        const job = await intake.db.knex('jobs').where({ message_id: r.messageId }).first();
        assert.equal(job, undefined);
      } finally {
        await rescuer.stop();
      }
    } finally {
      await intake.stop();
    }
  });

  it('a fresh lock of a live worker is not taken over', async () => {
    const intake = await startTestGateway({ WORKER: 'false' });
    try {
      const r = await postSoap(intake.url, envelope('sendMail', { clientHashKey: DEMO_KEY, recipientEmailAddress: 'busy@example.com', recipientName: 'B', mailSubject: 'held', mailBody: 'b' }));
      await intake.db.knex('jobs').where({ message_id: r.messageId }).update({ locked_by: 'live-worker', locked_at: intake.db.knex.raw('now()') });
      const config = loadConfig({ DATABASE_URL: PG_URL, DB_SCHEMA: intake.schema, DATA_DIR: intake.dataDir, SMTP_URL: intake.smtp.url, AMQP_URL: 'off', WORKER_POLL_MS: '20' });
      const other = await startGateway(config, { http: false, worker: true, log: pino({ level: 'silent' }) });
      await new Promise((res) => setTimeout(res, 500));
      await other.stop();
      assert.equal(intake.smtp.received.length, 0);
      assert.equal((await intake.db.knex('jobs').where({ message_id: r.messageId }).first()).locked_by, 'live-worker');
    } finally {
      await intake.stop();
    }
  });
});
