// One embedded database, one process: a second `npm start` on the same folder is refused naming the folder and
// the holder's pid; a killed holder frees it at once; an outbox file of another message is never replaced.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, fixture, tempDir, waitForStatus, startTestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/private-pg.js';
import { postSoap } from '../helpers/soap.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

type Started = { child: ChildProcess; output: () => string; exit: Promise<number | null>; url: string };

/** `npm start` in `cwd` with no configuration but its port: DATA_DIR is ./data there. */
async function start(cwd: string): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), AMQP_URL: 'off' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exit, url: `http://127.0.0.1:${port}` };
}
const ready = (s: Started) => eventually(async () => (await fetch(`${s.url}/health`).catch(() => undefined))?.status === 200, 40000, `ready; output: ${s.output()}`);

describe('embedded data folder: one process at a time', function () {
  this.timeout(90000);
  const running: Started[] = [];
  afterEach(() => {
    for (const s of running.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  });

  it('a second start on the same folder exits non-zero naming the folder and the first one\'s pid; after SIGKILL of the first, a new start succeeds', async () => {
    const cwd = tempDir('hammy-lock-');
    const first = await start(cwd);
    running.push(first);
    await ready(first);
    const second = await start(cwd);
    running.push(second);
    const code = await second.exit;
    assert.notEqual(code, 0, second.output());
    const folder = path.join(fs.realpathSync(cwd), 'data', 'db');
    assert.ok(second.output().includes(folder), `names ${folder}: ${second.output()}`);
    assert.ok(second.output().includes(`pid ${first.child.pid}`), `names pid ${first.child.pid}: ${second.output()}`);
    assert.equal((await postSoap(first.url, fixture('soap', 'sample1.xml'))).code, 0, 'the first one goes on');

    first.child.kill('SIGKILL');
    await first.exit;
    const third = await start(cwd);
    running.push(third);
    await ready(third);
    const r = await postSoap(third.url, fixture('soap', 'sample1.xml'));
    assert.equal(r.code, 0, r.raw);
  });
});

describe('outbox files of another message are kept', function () {
  this.timeout(60000);
  it('an .eml of another message where this one\'s goes is not replaced: the delivery is retried with the reason, and goes once it is moved away', async () => {
    // The .eml outbox (no SMTP_URL), on a database whose ids start where an older outbox already has files.
    const gw = await startTestGateway({ SMTP_URL: '', RETRY_BASE_MS: '100', RETRY_MAX_ATTEMPTS: '50' });
    try {
      const outbox = path.join(gw.dataDir, 'outbox', 'email');
      fs.mkdirSync(outbox, { recursive: true });
      const next = Number((await gw.db.knex.raw("select last_value + (case when is_called then 1 else 0 end) as n from messages_id_seq")).rows[0].n);
      const old = 'From: old@example.com\nX-Hammy-Message-Id: ' + next + '\nSubject: an older message\n\nkept\n';
      fs.writeFileSync(path.join(outbox, `${next}.eml`), old);
      const r = await postSoap(gw.url, fixture('soap', 'sample1.xml'));
      assert.equal(r.messageId, next);
      const events = await waitForStatus(gw, next, 'RETRYING');
      const reason = events.find((e) => e.status === 'RETRYING').reason as string;
      assert.match(reason, new RegExp(`${next}\\.eml is there already, a different file \\(another message's, kept\\)`));
      assert.equal(fs.readFileSync(path.join(outbox, `${next}.eml`), 'utf8'), old, 'the other message\'s file is untouched');
      fs.renameSync(path.join(outbox, `${next}.eml`), path.join(outbox, 'moved-away.eml'));
      await waitForStatus(gw, next, 'SENT', 30000);
      assert.match(fs.readFileSync(path.join(outbox, `${next}.eml`), 'utf8'), new RegExp(`X-Hammy-Message-Id: ${next}\n`, 'i'));
      assert.equal(fs.readFileSync(path.join(outbox, 'moved-away.eml'), 'utf8'), old);
      assert.deepEqual(fs.readdirSync(outbox).filter((f) => f.endsWith('.tmp')), [], 'no work files left');
    } finally {
      await gw.stop();
    }
  });
});
