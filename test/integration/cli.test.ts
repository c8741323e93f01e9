// The built `hammy` tool driven as a user would: a new client and template, sends through each intake, status, batch tail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AMQP_URL } from '../helpers/amqp.js';
import { eventually, FIXTURES, startTestGateway, tempDir, waitForStatus, type TestGateway } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'dist', 'src', 'cli', 'hammy.js');
const TOKEN = 'cli-admin-token-7d2e90';
const CLI = path.join(FIXTURES, 'cli');

type Run = { code: number; stdout: string; stderr: string };

describe('hammy command-line tool', function () {
  this.timeout(60000);
  let gw: TestGateway;
  let queue: string;
  let key = '';
  let clientId = '';

  /** `hammy …` as a user runs it: a child process, configured by HAMMY_* variables. */
  const hammy = (args: string[], env: Record<string, string> = {}) =>
    new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { PATH: process.env.PATH, HAMMY_URL: gw.url, HAMMY_AMQP_URL: AMQP_URL, HAMMY_AMQP_QUEUE: queue, ...env }, timeout: 30000 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const asClient = (args: string[]) => hammy(args, { HAMMY_CLIENT_KEY: key });
  const messageIdOf = (r: Run) => Number(/message (\d+)/.exec(r.stdout)?.[1]);

  before(async () => {
    assert.ok(fs.existsSync(BIN), 'npm test builds dist first');
    queue = `test.cli.${randomBytes(4).toString('hex')}`;
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, AMQP_URL, AMQP_QUEUE: queue, AMQP_REPLY_EXCHANGE: `${queue}.reply` });
    await eventually(async () => (await (await fetch(`${gw.url}/health`)).json()).parts.amqp.state === 'consuming', 15000, 'amqp consuming');
  });
  after(async () => gw?.stop());

  it('the built bin runs by itself (npx hammy): npm run build leaves it executable', async () => {
    assert.ok(fs.statSync(BIN).mode & 0o111, `${BIN} is executable`);
    const out = await new Promise<string>((resolve, reject) => execFile(BIN, ['--help'], (err, stdout) => (err ? reject(err) : resolve(stdout))));
    assert.match(out, /Usage: hammy/);
  });

  it('walk-through: create a client, import a template folder, send by SOAP, REST and the queue, tail the batch to its end', async () => {
    const made = await hammy(['client', 'create', '--name', 'Új Ügyfél Kft.', '--from', 'ertesito@uj.example', '--from-name', 'Új Ügyfél', '--postal-address', 'Pf. 12;1300 Budapest'], { HAMMY_ADMIN_TOKEN: TOKEN });
    assert.equal(made.code, 0, made.stderr);
    key = /hash key: ([0-9a-f]{40})/.exec(made.stdout)![1]!;
    clientId = /client (\d+) created/.exec(made.stdout)![1]!;
    const shown = await (await fetch(`${gw.url}/hammy/admin/v1/clients/${clientId}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    assert.equal(shown.data.attributes.postalAddress, 'Pf. 12;1300 Budapest');

    const imported = await asClient(['template', 'import', path.join(CLI, 'templates')]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /WELCOME 1: imported as version 1/);
    const again = await asClient(['template', 'import', path.join(CLI, 'templates')]);
    assert.match(again.stdout, /WELCOME 1: unchanged \(same as version 1\)/, 'a second import changes nothing');

    const soap = await asClient(['send', path.join(CLI, 'welcome.xml'), '--batch-id', 'WELCOME-RUN']);
    assert.equal(soap.code, 0, soap.stdout + soap.stderr);
    assert.match(soap.stdout, /accepted via soap: message \d+/);
    const json = await asClient(['send', path.join(CLI, 'welcome.json'), '--batch-id', 'WELCOME-RUN']);
    assert.equal(json.code, 0, json.stdout + json.stderr);
    assert.match(json.stdout, /accepted via rest: message \d+/);
    const queued = await asClient(['send', path.join(CLI, 'welcome-queue.xml'), '--via', 'amqp', '--batch-id', 'WELCOME-RUN']);
    assert.equal(queued.code, 0, queued.stdout + queued.stderr);
    assert.match(queued.stdout, /accepted via amqp: message \d+/);
    const ids = [soap, json, queued].map(messageIdOf);
    assert.equal(new Set(ids).size, 3);
    const replay = await asClient(['send', path.join(CLI, 'welcome.json'), '--via', 'amqp', '--batch-id', 'WELCOME-RUN']);
    assert.equal(messageIdOf(replay), ids[1], 'the same request through the queue is recognised (SPEC §6): the first messageId, nothing sent again');

    const tail = await asClient(['batch', 'tail', 'WELCOME-RUN', '--interval', '100', '--timeout', '20']);
    assert.equal(tail.code, 0, tail.stdout + tail.stderr);
    const lines = tail.stdout.trim().split('\n');
    assert.match(lines.at(-2)!, /^batch WELCOME-RUN: 3\/3 final \(SENT 3\)$/);
    assert.equal(lines.at(-1), 'batch WELCOME-RUN: all 3 final');
    assert.doesNotMatch(tail.stdout, /\r|\x1b/, 'no progress bar when the output is not a terminal');

    const status = await asClient(['status', String(ids[0])]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^message ${ids[0]}  SENT \\(final\\)`));
    assert.match(status.stdout, /template  WELCOME v1/);
    assert.match(status.stdout, /recipient Kiss Anna <anna@example.com>/);
    assert.match(status.stdout, /timeline\n.*RECEIVED\s+via soap\n.*QUEUED\n.*SENT/);

    const mails = gw.smtp.received.filter((m) => m.mail.from?.value[0]?.address === 'ertesito@uj.example');
    assert.deepEqual(mails.map((m) => m.mail.subject).sort(), ['Üdvözöljük, Kiss Anna!', 'Üdvözöljük, Nagy Béla!', 'Üdvözöljük, Tóth Cecília!']);
    assert.match(mails.find((m) => m.envelopeTo.includes('anna@example.com'))!.mail.text!, /Ügyfélszáma: 1001\.\nVálasztott díjcsomagja: Alap\./);
  });

  it('on a terminal, batch tail draws a progress bar in place', async () => {
    // util-linux `script` gives the tool a pseudo-terminal, as a person's shell would.
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const r = await new Promise<Run>((resolve) => {
      execFile(
        'script',
        ['-qec', [process.execPath, BIN, 'batch', 'tail', 'WELCOME-RUN', '--interval', '100'].map(quote).join(' '), '/dev/null'],
        { env: { PATH: process.env.PATH, HAMMY_URL: gw.url, HAMMY_CLIENT_KEY: key, COLUMNS: '100' }, timeout: 30000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\rWELCOME-RUN \[#{10,40}\] 3\/3  SENT 3\x1b\[K/);
    assert.match(r.stdout, /batch WELCOME-RUN: all 3 final/);
  });

  it('--json prints the API answers', async () => {
    const r = await asClient(['--json', 'template', 'list']);
    assert.deepEqual(JSON.parse(r.stdout).data.map((t: any) => t.id), ['WELCOME:1']);
    const s = await asClient(['send', path.join(CLI, 'welcome.xml'), '--json']);
    const answer = JSON.parse(s.stdout);
    assert.deepEqual([answer.via, answer.code], ['soap', 0]);
    const st = JSON.parse((await asClient(['status', String(answer.messageId), '--json'])).stdout);
    assert.equal(st.data.attributes.messageType, 'WELCOME');
  });

  it('a broken template folder is refused with the engine message and line; the exit code says so', async () => {
    const r = await asClient(['template', 'import', path.join(CLI, 'broken')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BROKEN 1: refused\n\s+400 \(code 3\): template text does not compile: Parse error on line \d+/);
  });

  it('a refused send shows the code and each field; the exit code is 1', async () => {
    const file = path.join(tempDir(), 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ messageType: 'WELCOME', recipientName: 'X', recipientEmailAddress: 'not-an-address' }));
    const r = await asClient(['send', file, '--via', 'soap']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /refused via soap: code 1\n\s+recipientEmailAddress: /);
    const rest = await asClient(['send', file]);
    assert.equal(rest.code, 1);
    assert.match(rest.stdout, /refused via rest: code 1\n\s+recipientEmailAddress: /);
  });

  it('batch tail: exit 2 with the failed messages listed; a batch that never ends times out with exit 1', async () => {
    gw.smtp.script.onRcpt = (a) => (a === 'bela@example.com' ? { code: 550, text: 'mailbox unavailable' } : undefined);
    try {
      const a = messageIdOf(await asClient(['send', path.join(CLI, 'welcome.xml'), '--batch-id', 'MIXED']));
      const b = messageIdOf(await asClient(['send', path.join(CLI, 'welcome.json'), '--via', 'soap', '--batch-id', 'MIXED']));
      await waitForStatus(gw, b, 'FAILED');
      await waitForStatus(gw, a, 'SENT');
      const r = await asClient(['batch', 'tail', 'MIXED', '--interval', '100']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`1 failed: ${b} \\(hammy status <id> shows why\\)`));
      assert.match((await asClient(['status', String(b)])).stdout, /FAILED\s+550 mailbox unavailable|FAILED .*550/);
    } finally {
      gw.smtp.script = {};
    }
    await gw.worker!.stop();
    try {
      await asClient(['send', path.join(CLI, 'welcome.xml'), '--batch-id', 'STUCK']);
      const r = await asClient(['batch', 'tail', 'STUCK', '--interval', '100', '--timeout', '1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /batch STUCK is not final after 1 s: .*0\/1 final \(QUEUED 1\)/);
    } finally {
      gw.worker!.start();
    }
  });

  it('rotate: the old key stops working; disable: sends answer code 2', async () => {
    const old = key;
    const rotated = await hammy(['client', 'rotate', clientId], { HAMMY_ADMIN_TOKEN: TOKEN });
    assert.equal(rotated.code, 0, rotated.stderr);
    key = /hash key: ([0-9a-f]{40})/.exec(rotated.stdout)![1]!;
    assert.notEqual(key, old);
    const stale = await hammy(['template', 'list'], { HAMMY_CLIENT_KEY: old });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /401 \(code 2\)/);
    assert.equal((await asClient(['template', 'list'])).code, 0);

    assert.equal((await hammy(['client', 'disable', clientId], { HAMMY_ADMIN_TOKEN: TOKEN })).code, 0);
    const refused = await asClient(['send', path.join(CLI, 'welcome.xml')]);
    assert.match(refused.stdout, /refused via soap: code 2/);
    assert.match((await hammy(['client', 'list'], { HAMMY_ADMIN_TOKEN: TOKEN })).stdout, new RegExp(`${clientId}  disabled  Új Ügyfél Kft.`));
    assert.equal((await hammy(['client', 'enable', clientId], { HAMMY_ADMIN_TOKEN: TOKEN })).code, 0);
  });

  it('rate limit: create --rate-limit sets it, rate-limit <id> none clears it', async () => {
    const made = await hammy(['client', 'create', '--name', 'Lassú Kft.', '--from', 'lassu@uj.example', '--rate-limit', '5'], { HAMMY_ADMIN_TOKEN: TOKEN });
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /at most 5 requests\/s/);
    const id = /client (\d+) created/.exec(made.stdout)![1]!;
    assert.equal((await gw.db.knex('clients').where({ id: Number(id) }).first()).rate_limit_per_second, 5);
    const cleared = await hammy(['client', 'rate-limit', id, 'none'], { HAMMY_ADMIN_TOKEN: TOKEN });
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await gw.db.knex('clients').where({ id: Number(id) }).first()).rate_limit_per_second, null);
    const bad = await hammy(['client', 'rate-limit', id, 'fast'], { HAMMY_ADMIN_TOKEN: TOKEN });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /must be a positive integer/);
  });

  it('portal-key create|list|revoke: the key is printed once, listed without it, and dead at once when revoked', async () => {
    const asAdmin = (args: string[]) => hammy(['client', 'portal-key', ...args], { HAMMY_ADMIN_TOKEN: TOKEN });
    const made = await asAdmin(['create', clientId]);
    assert.equal(made.code, 0, made.stderr);
    const [, keyId, portalKey] = new RegExp(`portal key (\\d+) created for client ${clientId}: ([0-9a-f]{40})`).exec(made.stdout)!;
    const probe = async () => (await fetch(`${gw.url}/portal/v1/recipients/R-1/messages`, { headers: { 'X-Portal-Key': portalKey!, 'X-Recipient-Id': 'R-1' } })).status;
    assert.equal(await probe(), 200);
    const list = await asAdmin(['list', clientId]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^ *${keyId}  created \\S+  last used `, 'm'));
    assert.ok(!list.stdout.includes(portalKey!), 'list never shows the key');
    const revoked = await asAdmin(['revoke', clientId, keyId!]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout.trim(), `portal key ${keyId} of client ${clientId} revoked`);
    assert.equal(await probe(), 401);
    const again = await asAdmin(['revoke', clientId, keyId!]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /404 \(code 6\): portal key \d+ of client \d+ not found/);
    assert.match((await hammy(['client', 'portal-key', 'list', clientId])).stderr, /the admin token is needed/);
  });

  it('says what is missing: the admin token, the key, a reachable gateway', async () => {
    const noToken = await hammy(['client', 'list']);
    assert.deepEqual([noToken.code, noToken.stderr.trim()], [1, 'hammy: the admin token is needed: --admin-token or HAMMY_ADMIN_TOKEN']);
    const wrongToken = await hammy(['client', 'list', '--admin-token', 'wrong-token-000000']);
    assert.match(wrongToken.stderr, /401/);
    const noKey = await hammy(['status', '1']);
    assert.match(noKey.stderr, /a client key is needed/);
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const down = await hammy(['status', '1', '--key', 'k', '--url', `http://127.0.0.1:${closed}`]);
    assert.match(down.stderr, new RegExp(`cannot reach the gateway at http://127.0.0.1:${closed}: ECONNREFUSED`));
    const usage = await hammy(['status', 'abc']);
    assert.notEqual(usage.code, 0);
    assert.match(usage.stderr, /must be a positive integer/);
  });
});
