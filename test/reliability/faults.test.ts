// Faults of the gateway's own processes and of its outputs, each ending with the books balanced (the broker
// and the database away: services.test.ts).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PG_URL, eventually, startTestGateway, tempDir } from '../helpers/gateway.js';
import { envelope, postSoap } from '../helpers/soap.js';
import { balance, type Books } from './books.js';
import { newTally, restLoop, soapLoop, type Tally } from './load.js';
import { recordScenario } from './results.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function report(name: string, t: Tally, books: Books, extra: Record<string, unknown> = {}) {
  recordScenario(name, { requests: t.sent, accepted: t.accepted.size, refused: Object.fromEntries(t.refused), transportErrors: t.errors, ...books, ...extra });
  assert.equal(books.lost, 0, `${name}: nothing accepted is lost`);
}

describe('reliability: faults under load', function () {
  this.timeout(180000);

  it('the worker process SIGKILLed mid-delivery, then restarted', async () => {
    const gw = await startTestGateway({ WORKER: 'false' });
    let worker: ChildProcess | undefined;
    const startWorker = () => {
      const p = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js'), '--worker-only'], {
        env: { ...process.env, DATABASE_URL: PG_URL, DB_SCHEMA: gw.schema, DATA_DIR: gw.dataDir, SMTP_URL: gw.smtp.url, AMQP_URL: 'off', WORKER_POLL_MS: '20', WORKER_CONCURRENCY: '8', JOB_LOCK_TIMEOUT_MS: '2000', LOG_LEVEL: 'silent' },
        stdio: 'ignore',
      });
      return p;
    };
    try {
      // A slow SMTP server, so the kill lands while mails are in flight.
      gw.smtp.script.delayMs = 100;
      const t = newTally();
      const stopAt = Date.now() + 3000;
      await Promise.all([soapLoop(gw.url, 'kill', () => Date.now() < stopAt, t), restLoop(gw.url, 'kill', () => Date.now() < stopAt, t)]);
      worker = startWorker();
      await eventually(async () => gw.smtp.received.length >= 5, 20000, 'some mails out');
      worker.kill('SIGKILL');
      await new Promise((r) => worker!.once('exit', r));
      const atKill = gw.smtp.received.length;
      const locked = Number((await gw.db.knex('jobs').whereNotNull('locked_by').count('* as n'))[0]!.n);
      worker = startWorker();
      const books = await balance(gw.db.knex, gw.smtp, [...t.accepted], 90000);
      report('delivery worker SIGKILLed mid-delivery and restarted', t, books, { mailsBeforeKill: atKill, jobsLockedAtKill: locked });
      assert.equal(books.sent, t.accepted.size);
      // A mail the SMTP server took just before the kill, whose SENT was never recorded, goes again:
      // at most the deliveries in flight at that moment (the worker's concurrency).
      assert.ok(books.duplicates <= 8, `duplicates ${books.duplicates} bounded by what was in flight`);
    } finally {
      worker?.kill('SIGKILL');
      await gw.stop();
    }
  });

  it('SMTP 421/451 for a while then recovering; 550 for some recipients; the connection dropped after DATA', async () => {
    const gw = await startTestGateway({ RETRY_BASE_MS: '200', RETRY_MAX_ATTEMPTS: '10' });
    try {
      let busyUntil = Date.now() + 2500;
      let drops = 0;
      gw.smtp.script.onRcpt = (a) => (a.startsWith('bounce') ? { code: 550, text: 'no such user' } : undefined);
      gw.smtp.script.onData = (raw) => {
        if (Date.now() < busyUntil) return raw.length % 2 ? { code: 421, text: 'busy' } : { code: 451, text: 'try later' };
        if (raw.includes('Subject: smtp drop') && drops++ < 3) return 'drop';
        return undefined;
      };
      const t = newTally();
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) {
        const to = i % 10 === 0 ? `bounce${i}@example.com` : `ok${i}@example.com`;
        const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'aa87cd4bcd3445bbc4', recipientEmailAddress: to, recipientName: 'S', mailSubject: i % 7 === 0 ? 'smtp drop' : `smtp ${i}`, mailBody: 'b' }));
        t.sent++;
        if (r.code === 0) {
          t.accepted.add(r.messageId!);
          ids.push(r.messageId!);
        }
      }
      const books = await balance(gw.db.knex, gw.smtp, ids, 60000);
      busyUntil = 0;
      report('SMTP 4xx for a while, 550 for some recipients, connection dropped after DATA', t, books);
      assert.equal(books.failed, 3, 'the three 550 recipients FAILED at once');
      assert.equal(books.sent, 27);
      const retried = Number((await gw.db.knex('message_events').where({ status: 'RETRYING' }).whereIn('message_id', ids).countDistinct('message_id as n'))[0]!.n);
      assert.ok(retried > 0, 'the 4xx period was retried');
      assert.equal(books.duplicates, 0);
    } finally {
      await gw.stop();
    }
  });

  it('print and archive output unwritable: RETRYING with the reason, never a crash; delivered once fixed', async () => {
    const blocked = tempDir('blocked-');
    const notADir = path.join(blocked, 'print-is-a-file');
    fs.writeFileSync(notADir, 'x');
    const gw = await startTestGateway({ PRINT_DIR: path.join(notADir, 'out'), ARCHIVE_DIR: path.join(notADir, 'archive'), RETRY_BASE_MS: '300', RETRY_MAX_ATTEMPTS: '20' });
    try {
      const posted = Date.now();
      const letter = await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'aa87cd4bcd3445bbc4', channel: 'POST', recipientName: 'P', recipientPostalAddress: 'Fő utca 1.;1011 Budapest', letterType: 'NORMAL', mailSubject: 'unwritable', mailBody: 'b' }));
      const archived = await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'aa87cd4bcd3445bbc4', recipientEmailAddress: 'a@example.com', recipientName: 'A', mailSubject: 'unwritable archive', mailBody: 'b' }, { attachments: `<attachment><fileName>x.pdf</fileName><content>${fs.readFileSync(path.join(ROOT, 'fixtures/files/minta.pdf')).toString('base64')}</content><archivingExpected>true</archivingExpected><properties><property><key>ARCHIVE_TARGET</key><value>FS</value></property></properties></attachment>` }));
      assert.equal(letter.code, 0);
      assert.equal(archived.code, 0, archived.raw);
      await eventually(async () => (await gw.db.knex('message_events').where({ message_id: letter.messageId, status: 'RETRYING' }).first()) && (await gw.db.knex('message_events').where({ message_id: archived.messageId, status: 'RETRYING' }).first()), 20000, 'RETRYING');
      const reasons = await gw.db.knex('message_events').whereIn('message_id', [letter.messageId, archived.messageId]).andWhere({ status: 'RETRYING' }).pluck('reason');
      assert.ok(reasons.some((r: string) => /print outbox not writable: ENOTDIR/.test(r)), reasons.join(' | '));
      assert.ok(reasons.some((r: string) => /archiving failed: ENOTDIR/.test(r)), reasons.join(' | '));
      assert.equal((await fetch(`${gw.url}/health`)).status, 200, 'the gateway is up');
      fs.rmSync(notADir);
      // The back-off doubles from 300 ms, so the next try comes within about 1.5 × the time spent failing so far
      // (a slow machine spends longer getting here, and its messages have backed off further).
      const books = await balance(gw.db.knex, gw.smtp, [letter.messageId!, archived.messageId!], Math.max(60000, 2 * (Date.now() - posted) + 10000));
      report('print/archive folder unwritable (ENOTDIR), then fixed', { accepted: new Set([letter.messageId!, archived.messageId!]), refused: new Map(), errors: 0, sent: 2 }, books);
      if (books.sent !== 2) {
        // Say where each message stands, so a failure here can be read without running it again.
        const ids = [letter.messageId!, archived.messageId!];
        const where = {
          waitedMs: Date.now() - posted,
          messages: await gw.db.knex('messages').whereIn('id', ids).select('id', 'status'),
          jobs: await gw.db.knex('jobs').whereIn('message_id', ids).select('message_id', 'attempts', 'run_at', 'last_error'),
          events: await gw.db.knex('message_events').whereIn('message_id', ids).orderBy('id').select('message_id', 'status', 'reason'),
        };
        assert.fail(`${books.sent} of 2 sent: ${JSON.stringify(where)}`);
      }
    } finally {
      await gw.stop();
    }
  });
});
