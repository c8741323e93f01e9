// npm run bench: every intake and delivery against the floor of its own building blocks, in one run (issue: bench).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { mailFor } from '../src/channels/email/email.js';
import { contentFromRows } from '../src/store/message-rows.js';
import { amqpLoad, httpLoad, type LoadResult } from './lib/load.js';
import { measure, startNode, usage, type Child } from './lib/proc.js';
import { concurrentBodies, slowloris, stalls } from './limits.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist');
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
// Every load (floors and gateway alike) first runs this long unmeasured, so JIT warm-up is not what is compared.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 200_000);
const KEY = 'aa87cd4bcd3445bbc4';
// SMTP connections of the end-to-end gateway's worker, and of the F_smtp floor it is compared with.
const SMTP_POOL = process.env.BENCH_SMTP_POOL ?? '16';
// BENCH_ONLY=rest,soap,amqp,e2e,multipart,upload,backlog,cold,slowloris,bodies,stalls runs a subset (with the floors they need) for a quick look.
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : undefined;
const want = (...names: string[]) => !ONLY || names.some((n) => ONLY.has(n));
const fixture = (...p: string[]) => fs.readFileSync(path.join(ROOT, 'fixtures', ...p));

type Row = { name: string; floor?: string; target?: string; opsPerSec?: number; p50?: number; p99?: number; cpuMsPerOp?: number; peakRssMb?: number; ratio?: number; needed?: number; pass?: boolean; note?: string };
const rows: Row[] = [];
const floors: Record<string, number> = {};
let noise = 0;
const log = (...a: unknown[]) => console.log(...a);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const schemas: string[] = [];
const schemaName = (p: string) => {
  const s = `bench_${p}_${randomBytes(3).toString('hex')}`;
  schemas.push(s);
  return s;
};

async function withChild<C extends Child, T>(child: C, fn: (c: C) => Promise<T>): Promise<T> {
  try {
    return await fn(child);
  } finally {
    await child.stop();
  }
}

function record(name: string, floorName: string | undefined, target: number | undefined, m: { result: LoadResult; cpuMs: number; peakRssBytes: number }, note?: string) {
  const r = m.result;
  const row: Row = { name, floor: floorName, opsPerSec: r.opsPerSec, p50: r.p50, p99: r.p99, cpuMsPerOp: r.ops ? m.cpuMs / r.ops : undefined, peakRssMb: m.peakRssBytes / 1048576, note: [note, r.errors ? `${r.errors} errors` : ''].filter(Boolean).join('; ') || undefined };
  if (floorName && target !== undefined) {
    row.ratio = r.opsPerSec / floors[floorName]!;
    row.target = `≥ ${target} × ${floorName}`;
    row.needed = target;
    row.pass = row.ratio >= target - noise;
  }
  rows.push(row);
  log(name, Math.round(r.opsPerSec), 'ops/s', row.ratio !== undefined ? `ratio ${row.ratio.toFixed(2)} (target ${target})` : '');
  return row;
}

/** A load run for WARMUP seconds unmeasured, then for SECONDS under measurement. */
async function measureLoad(pid: number, load: (seconds: number) => Promise<LoadResult>) {
  if (WARMUP > 0) await load(WARMUP);
  return measure(pid, () => load(SECONDS));
}

async function gateway(env: Record<string, string>): Promise<Child & { url: string; schema: string }> {
  const port = await freePort();
  const schema = schemaName('gw');
  const child = await startNode(path.join(DIST, 'src', 'main.js'), {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: PG_URL,
    DB_SCHEMA: schema,
    FIXTURES: 'demo',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-data-')),
    AMQP_URL: 'off',
    LOG_LEVEL: 'warn',
    ...env,
  }, null);
  const url = `http://127.0.0.1:${port}`;
  await waitHealth(url).catch((e) => {
    throw new Error(`${e.message}: ${child.output().slice(-2000)}`);
  });
  return Object.assign(child, { url, schema });
}

async function waitHealth(url: string, ms = 60000) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`${url} never became healthy`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main() {
  const started = Date.now();
  const sink = await startNode(path.join(DIST, 'bench', 'floors', 'smtp-sink.js'), {});
  const [, smtpPort, countPort] = /smtp=(\d+) count=(\d+)/.exec(sink.output())!;
  const SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
  const delivered = async () => Number(await (await fetch(`http://127.0.0.1:${countPort}`)).text());

  const jsonBody = fixture('amqp', 'sample-json.json').toString().replace('"351.DI"', '"TEST.MAIL"');
  const restJson = JSON.stringify({ messageType: 'TEST.MAIL', recipientEmailAddress: 'bench@example.com', recipientName: 'Bench', xmlData: '<DATA><contractNumber>10000001</contractNumber><clientID>9000001</clientID></DATA>' });
  void jsonBody;
  const soapBody = fixture('soap', 'sample1.xml');

  // ---- floors ----
  const floorHttp = async (script: string, env: Record<string, string>, body: string | Buffer, headers: Record<string, string>, url = '/', connections = CONNECTIONS) =>
    withChild(await startNode(path.join(DIST, 'bench', 'floors', script), env), async (c) => {
      const port = /ready (\d+)/.exec(c.output())![1];
      return measureLoad(c.pid, (seconds) => httpLoad({ url: `http://127.0.0.1:${port}${url}`, body, headers, connections, seconds }));
    });
  const boundary = 'benchBoundary7d1';
  const multipartMessage = JSON.stringify({ recipientEmailAddress: 'bench@example.com', recipientName: 'Bench', mailSubject: 'multipart', mailBody: 'b', attachments: [{ fileName: 'one-mb.bin', attachmentRef: 'file' }] });
  const multipartBody = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n${multipartMessage}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="one-mb.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.alloc(1024 * 1024, 7),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const multipartHeaders = { 'content-type': `multipart/form-data; boundary=${boundary}` };

  const fh = await floorHttp('http.js', {}, restJson, { 'content-type': 'application/json' });
  floors.F_http = fh.result.opsPerSec;
  record('F_http: bare koa handler', undefined, undefined, fh);
  const tx1 = await floorHttp('tx.js', { DATABASE_URL: PG_URL, FLOOR_SCHEMA: schemaName('ftx') }, restJson, { 'content-type': 'application/json' });
  const tx2 = await floorHttp('tx.js', { DATABASE_URL: PG_URL, FLOOR_SCHEMA: schemaName('ftx') }, restJson, { 'content-type': 'application/json' });
  floors.F_tx = (tx1.result.opsPerSec + tx2.result.opsPerSec) / 2;
  noise = Math.abs(tx1.result.opsPerSec - tx2.result.opsPerSec) / floors.F_tx;
  record('F_tx: koa + pg, 3 inserts in one transaction', undefined, undefined, tx1, `second run ${Math.round(tx2.result.opsPerSec)} ops/s; run-to-run noise ${(noise * 100).toFixed(1)}%`);
  if (want('multipart')) {
    // The same 1 MB multipart body, taken whole and stored as bytes by the same three-insert transaction.
    const txm = await floorHttp('tx.js', { DATABASE_URL: PG_URL, FLOOR_SCHEMA: schemaName('ftxm') }, multipartBody, multipartHeaders, '/', 8);
    floors.F_tx_1mb = txm.result.opsPerSec;
    record('F_tx (1 MB): koa + pg, the same 1 MB multipart body stored by the 3-insert transaction', undefined, undefined, { ...txm, result: txm.result }, '8 connections');
  }
  if (want('soap')) {
  const fs1 = await floorHttp('soap.js', { PROJECT_ROOT: ROOT }, soapBody, { 'content-type': 'text/xml; charset=utf-8' }, '/hammy/soap/send/v2');
  floors.F_soap = fs1.result.opsPerSec;
  record('F_soap: node soap answering a constant', undefined, undefined, fs1);
  }
  if (want('amqp')) {
  const floorQueue = `bench.floor.${randomBytes(3).toString('hex')}`;
  const fa = await withChild(await startNode(path.join(DIST, 'bench', 'floors', 'amqp.js'), { DATABASE_URL: PG_URL, FLOOR_SCHEMA: schemaName('famqp'), AMQP_URL, FLOOR_QUEUE: floorQueue }), (c) =>
    measureLoad(c.pid, (seconds) => amqpLoad({ url: AMQP_URL, queue: floorQueue, body: restJson, contentType: 'application/json', headers: {}, outstanding: 64, seconds })),
  );
  floors.F_amqp = fa.result.opsPerSec;
  record('F_amqp: amqplib consumer, 3-insert tx, reply', undefined, undefined, fa);
  }
  if (want('e2e')) {
    // The mail the gateway sends for the end-to-end request, built by its own EMAIL channel code from the stored
    // message, and sent over as many pooled connections as the gateway's worker uses.
    const mail = await withChild(await gateway({ WORKER: 'false', SMTP_URL }), async (gw) => {
      const res = await fetch(`${gw.url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': KEY }, body: restJson });
      const id = ((await res.json()) as { messageId: number }).messageId;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        const row = (await c.query(`select * from ${gw.schema}.messages where id = $1`, [id])).rows[0];
        return mailFor({ id, ...contentFromRows(row, []) }, os.hostname());
      } finally {
        await c.end();
      }
    });
    const runs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const m = await withChild(await startNode(path.join(DIST, 'bench', 'floors', 'smtp.js'), { SMTP_URL, FLOOR_MAIL: JSON.stringify(mail), FLOOR_SECONDS: String(SECONDS), FLOOR_WARMUP_SECONDS: String(WARMUP), FLOOR_POOL: SMTP_POOL, FLOOR_INFLIGHT: '64' }), async (c) => {
        c.proc.kill('SIGUSR2');
        while (!/warm\n|Error/.test(c.output()) && c.proc.exitCode === null && c.proc.signalCode === null) await new Promise((r) => setTimeout(r, 20));
        return measure(c.pid, async () => {
          while (!/done \d+|Error/.test(c.output()) && c.proc.exitCode === null && c.proc.signalCode === null) await new Promise((r) => setTimeout(r, 50));
          const [, n, secs] = /done (\d+) ([\d.]+)/.exec(c.output()) ?? [];
          if (!n) throw new Error(`F_smtp floor failed: ${c.output().slice(-2000)}`);
          return { ops: Number(n), seconds: Number(secs), opsPerSec: Number(n) / Number(secs), p50: 0, p99: 0, errors: 0 } satisfies LoadResult;
        });
      });
      runs.push(m.result.opsPerSec);
      if (i === 0) record(`F_smtp: pooled nodemailer (${SMTP_POOL} connections) into the sink, the gateway's own TEST.MAIL mail`, undefined, undefined, m);
    }
    floors.F_smtp = (runs[0]! + runs[1]!) / 2;
    rows[rows.length - 1]!.note = `second run ${Math.round(runs[1]!)} mails/s; the mean is the floor`;
    log('F_smtp', Math.round(floors.F_smtp));
  }

  // ---- gateway scenarios ----
  if (want('rest', 'soap')) await withChild(await gateway({ WORKER: 'false', SMTP_URL }), async (gw) => {
    await waitHealth(gw.url);
    const rest = await fetch(`${gw.url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': KEY }, body: restJson });
    if (!want('rest')) {
      // not asked for
    } else if (rest.status === 404) {
      rows.push({ name: 'REST plain JSON accept (TEST.MAIL)', note: 'REST intake not available in this build' });
    } else {
      record('REST plain JSON accept (TEST.MAIL)', 'F_tx', 0.8, await measureLoad(gw.pid, (seconds) => httpLoad({ url: `${gw.url}/hammy/json/send/v2/send`, body: restJson, headers: { 'content-type': 'application/json', 'x-client-hash-key': KEY }, connections: CONNECTIONS, seconds })));
    }
    if (want('soap')) record('SOAP sample envelope 1 accept', 'F_tx', 0.7, await measureLoad(gw.pid, (seconds) => httpLoad({ url: `${gw.url}/hammy/soap/send/v2`, body: soapBody, headers: { 'content-type': 'text/xml; charset=utf-8' }, connections: CONNECTIONS, seconds })));
  });

  if (want('amqp')) {
    const queue = `bench.gw.${randomBytes(3).toString('hex')}`;
    await withChild(await gateway({ WORKER: 'false', SMTP_URL, AMQP_URL, AMQP_QUEUE: queue }), async (gw) => {
      await waitHealth(gw.url);
      for (let i = 0; i < 100; i++) {
        const h = await (await fetch(`${gw.url}/health`)).json();
        if (h.parts.amqp.state === 'consuming') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      record('AMQP accept (JSON, answers consumed)', 'F_amqp', 1.0, await measureLoad(gw.pid, (seconds) => amqpLoad({ url: AMQP_URL, queue, body: restJson, contentType: 'application/json', headers: { 'X-Client-Hash-Key': KEY, 'X-Method-Name': 'Send_V2_Send' }, outstanding: 64, seconds })));
    });
  }

  // End to end: accepted through the wire and delivered to the sink, sustained. Measured as one process doing
  // both (`npm start`; with DATABASE_URL set, its worker runs on a thread of its own, WORKER_THREAD=auto), and as
  // the scaled deployment: an intake process and a worker process (`npm run worker`).
  if (want('e2e')) {
    // Sustained: the load runs three periods; mails accepted and delivered and CPU spent are counted over the last
    // two, once the queue has reached the length at which intake and delivery settle into step (the first period
    // is warm-up). The rate is the smaller of the two: a queue that grows (delivery behind) or shrinks (a backlog
    // from the warm-up being drained) is not sustained.
    const endToEnd = async (gw: Child & { url: string; schema: string }, pids: number[], label: string) => {
      await waitHealth(gw.url);
      const db = new pg.Client({ connectionString: PG_URL });
      await db.connect();
      const snapshot = async () => {
        const q = (await db.query(`select (select count(*) from ${gw.schema}.messages)::int as messages, (select count(*) from ${gw.schema}.jobs)::int as jobs`)).rows[0];
        return { mails: await delivered(), messages: q.messages as number, jobs: q.jobs as number, cpu: pids.map((p) => usage(p).cpuMs), at: performance.now() };
      };
      let from: Awaited<ReturnType<typeof snapshot>> | undefined;
      const warm = setTimeout(() => void snapshot().then((s) => (from = s)), SECONDS * 1000);
      const m = await measure(gw.pid, () => httpLoad({ url: `${gw.url}/hammy/json/send/v2/send`, body: restJson, headers: { 'content-type': 'application/json', 'x-client-hash-key': KEY }, connections: 16, seconds: SECONDS * 3 }));
      clearTimeout(warm);
      const to = await snapshot();
      await db.end();
      if (!from) throw new Error('end to end: no snapshot after the warm-up');
      const secs = (to.at - from.at) / 1000;
      const accepted = (to.messages - from.messages) / secs;
      const deliveredRate = (to.mails - from.mails) / secs;
      const rate = Math.min(accepted, deliveredRate);
      const cpuMs = to.cpu.reduce((sum, c, i) => sum + c - from!.cpu[i]!, 0);
      const peakRssBytes = Math.max(...pids.map((p) => usage(p).peakRssBytes));
      record(
        label,
        'F_smtp',
        0.5,
        { ...m, cpuMs, peakRssBytes, result: { ...m.result, ops: rate * secs, opsPerSec: rate } },
        `over the last ${secs.toFixed(0)} s (after ${SECONDS} s of warm-up): accepted ${accepted.toFixed(0)}/s, delivered ${deliveredRate.toFixed(0)}/s, jobs queued ${from.jobs} → ${to.jobs}; latency is the accepts'; CPU and RSS of ${pids.length === 1 ? 'the process' : 'both processes (RSS: the larger)'}`,
      );
    };
    const workerEnv = { SMTP_URL, WORKER_CONCURRENCY: '32', SMTP_POOL_SIZE: SMTP_POOL, WORKER_POLL_MS: '50' };
    await withChild(await gateway(workerEnv), (gw) => endToEnd(gw, [gw.pid], 'End to end, one process (intake, and the worker on its own thread): REST accept + delivery to SMTP, delivered mails/s'));
    await withChild(await gateway({ ...workerEnv, WORKER: 'false' }), async (gw) => {
      const worker = await startNode(path.join(DIST, 'src', 'main.js'), { DATABASE_URL: PG_URL, DB_SCHEMA: gw.schema, AMQP_URL: 'off', LOG_LEVEL: 'warn', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-worker-')), ...workerEnv }, null, [], ['--worker-only']);
      try {
        await endToEnd(gw, [gw.pid, worker.pid], 'End to end, intake process + worker process: REST accept + delivery to SMTP, delivered mails/s');
      } finally {
        await worker.stop();
      }
    });
  }

  // REST multipart with a 1 MB attachment.
  if (want('multipart')) await withChild(await gateway({ WORKER: 'false', SMTP_URL }), async (gw) => {
    record('REST multipart with a 1 MB attachment accept', 'F_tx_1mb', 0.5, await measureLoad(gw.pid, (seconds) => httpLoad({ url: `${gw.url}/hammy/json/send/v2/send`, body: multipartBody, headers: { ...multipartHeaders, 'x-client-hash-key': KEY }, connections: 8, seconds })));
  });

  // Upload memory: 10 clients each uploading 10 attachments of 10 MB at once.
  if (want('upload')) await withChild(await gateway({ WORKER: 'false', SMTP_URL }), async (gw) => {
    const before = usage(gw.pid);
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, c) => uploadTenByTen(`${gw.url}/hammy/json/send/v2/send`, c)));
    const after = usage(gw.pid);
    const peakMb = after.peakRssBytes / 1048576;
    const ok = statuses.filter((s) => s === 200).length;
    rows.push({ name: 'Upload memory: 10 clients × 10 attachments × 10 MB at once', target: 'peak RSS < 300 MB', peakRssMb: peakMb, pass: peakMb < 300 && ok === 10, note: `${ok}/10 accepted in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS before ${(before.rssBytes / 1048576).toFixed(0)} MB` });
    log('upload memory peak', peakMb.toFixed(0), 'MB', statuses);
  });

  // Slowloris: /health p99 alone and during 200 connections that trickle header bytes; the gateway's defaults
  // (HTTP_HEADERS_TIMEOUT_MS 10 s) close them.
  if (want('slowloris')) await withChild(await gateway({ WORKER: 'false', SMTP_URL }), async (gw) => {
    const r = await slowloris(gw.url, 200, 5, 15_000);
    const row = (name: string, h: typeof r.calm, note: string) => rows.push({ name, p50: h.p50, p99: h.p99, target: name.includes('during') ? '/health p99 < 200 ms' : undefined, pass: name.includes('during') ? h.p99 < 200 && h.failed === 0 : undefined, note });
    row('/health alone', r.calm, `${r.calm.n} requests, ${r.calm.failed} failed`);
    row('/health during a 200-connection slowloris', r.during, `${r.during.n} requests, ${r.during.failed} failed; ${r.closed}/200 slow connections closed by the gateway within 15 s`);
    log('slowloris', JSON.stringify(r));
  });

  // Stalls: /health p99 while one pathological request after another runs (a nested-each preview, a million JSON
  // keys, an 80,000-<b> portal fetch); the bounds answer them before they hold the event loop for long.
  if (want('stalls')) await withChild(await gateway({ WORKER: 'true', SMTP_URL, ADMIN_TOKEN: 'bench-admin-token-0123456789' }), async (gw) => {
    // With a pause after each, one of them runs at a time (the case, the target); back to back, one caller
    // keeps the gateway busy with them (recorded, no target: that caller's rate limit is the control there).
    for (const [how, gapMs] of [['one at a time', 200], ['back to back', 0]] as const) {
      for (const r of await stalls(gw.url, 'bench-admin-token-0123456789', KEY, 5, gapMs)) {
        const answers = Object.entries(r.statuses).map(([s, n]) => `${n} × ${s}`).join(', ');
        const target = gapMs ? '/health p99 < 200 ms' : undefined;
        rows.push({ name: `/health during ${r.name}, ${how}`, p50: r.health.p50, p99: r.health.p99, target, pass: target ? r.health.p99 < 200 && r.health.failed === 0 : undefined, note: `${r.health.n} /health answers, ${r.health.failed} failed; the requests got ${answers}` });
        log('stalls', how, JSON.stringify(r));
      }
    }
  });

  // Body memory: 20 SOAP bodies of 100 MB at once, their client known only from the body, under the default budget
  // (BODY_MEMORY_BYTES 256 MiB) and with the budget lifted out of the way (as main had none).
  if (want('bodies')) {
    const filler = 'x'.repeat(100 * 1024 * 1024);
    const soap100 = Buffer.from(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:send="http://send.api.hammy.dbx.hu/"><soapenv:Body><send:sendMail><request><clientHashKey>${KEY}</clientHashKey><recipientName>Bench</recipientName><recipientEmailAddress>bench@example.com</recipientEmailAddress><mailSubject>big</mailSubject><mailBody>${filler}</mailBody></request></send:sendMail></soapenv:Body></soapenv:Envelope>`);
    const runs: [string, Record<string, string>][] = [
      ['default budget (256 MiB)', {}],
      ['budget lifted (BODY_MEMORY_BYTES 16 GiB, all of it anonymous)', { BODY_MEMORY_BYTES: String(16 * 2 ** 30), BODY_MEMORY_ANONYMOUS_PERCENT: '100' }],
    ];
    for (const [label, env] of runs) {
      await withChild(await gateway({ WORKER: 'false', SMTP_URL, ...env }), async (gw) => {
        const r = await concurrentBodies(`${gw.url}/hammy/soap/send/v2`, gw.pid, soap100, { 'content-type': 'text/xml; charset=utf-8' }, 20);
        const statuses = Object.entries(r.tally).map(([s, n]) => `${n} × ${s}`).join(', ');
        rows.push({ name: `Body memory: 20 SOAP bodies × 100 MB at once, ${label}`, peakRssMb: r.peakRssMb, note: `answers ${statuses} in ${r.seconds.toFixed(1)} s; RSS before ${r.beforeRssMb.toFixed(0)} MB` });
        log('bodies', label, JSON.stringify(r));
      });
    }
  }

  // Backlog: queued messages drained by the worker; the last 10% as fast as the first, memory flat.
  if (want('backlog')) await backlog(SMTP_URL, delivered);

  // Cold start on the embedded default, after the install: `npm start` itself (npm's own start counts), three
  // times, each on a fresh data folder; the median is the result.
  if (want('cold')) {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push(await coldStart());
    const ms = [...runs].sort((a, b) => a - b)[1]!;
    rows.push({ name: 'Cold start (embedded, fresh ./data): npm start to /health 200', target: '< 3000 ms', opsPerSec: undefined, note: `median ${Math.round(ms)} ms of ${runs.map((r) => Math.round(r)).join(', ')}`, pass: ms < 3000 });
    log('cold start', runs.map((r) => Math.round(r)).join(', '), 'ms');
  }

  writeResults(Date.now() - started);
  for (const s of schemas) await dropSchema(s);
  await sink.stop();
  const missed = rows.filter((r) => r.pass === false);
  if (missed.length) {
    log(`missed: ${missed.map((r) => r.name).join('; ')}`);
    process.exitCode = 1;
  }
}

/** `npm start` with no configuration but a fresh data folder and a free port, until /health answers 200. */
async function coldStart(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-'));
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const t0 = performance.now();
  // Its own process group: npm and the gateway under it are stopped together.
  const proc = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()).once('error', () => resolve()));
  try {
    // A start that fails says why, instead of waiting out the health check.
    const failed = exited.then(() => Promise.reject(new Error(`npm start ended before /health answered: ${err.slice(-2000)}`)));
    failed.catch(() => undefined);
    await Promise.race([waitHealth(`http://127.0.0.1:${port}`, 60000), failed]);
    return performance.now() - t0;
  } finally {
    try {
      process.kill(-proc.pid!, 'SIGTERM');
    } catch {
      // the group is gone already
    }
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One client's request: 10 attachments of 10 MB, generated as the body streams (the client holds none of it). */
async function uploadTenByTen(url: string, client: number): Promise<number> {
  const boundary = `upload${client}x9`;
  const n = 10;
  const size = 10 * 1024 * 1024;
  const message = JSON.stringify({ recipientEmailAddress: 'big@example.com', recipientName: 'Big', mailSubject: `upload ${client}`, mailBody: 'b', attachments: Array.from({ length: n }, (_, i) => ({ fileName: `f${i}.bin`, attachmentRef: `f${i}` })) });
  const chunk = Buffer.alloc(256 * 1024, client);
  async function* parts() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n${message}\r\n`);
    for (let i = 0; i < n; i++) {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f${i}"; filename="f${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-client-hash-key': KEY },
    body: parts() as unknown as BodyInit, // undici streams an async iterable
    duplex: 'half',
  } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

async function backlog(smtpUrl: string, delivered: () => Promise<number>) {
  // The gateway makes its schema and the demo client; then the backlog is written straight into the tables.
  const gw = await gateway({ SMTP_URL: smtpUrl, WORKER: 'false' });
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`set search_path to ${gw.schema}`);
  const t0 = performance.now();
  await c.query(`insert into messages (client_id, status, channel, subject, text_body, recipient_name, recipient_email_address, from_address, intake)
                 select 1, 'QUEUED', 'EMAIL', 'backlog ' || g, 'Kedves Bench!', 'Bench', 'backlog@example.com', 'noreply@hammy.example', 'rest' from generate_series(1, $1) g`, [BACKLOG]);
  await c.query(`insert into jobs (message_id) select id from messages where subject like 'backlog %'`);
  const seededMs = performance.now() - t0;
  await gw.stop();
  const worker = await startNode(path.join(DIST, 'src', 'main.js'), { DATABASE_URL: PG_URL, DB_SCHEMA: gw.schema, SMTP_URL: smtpUrl, AMQP_URL: 'off', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '32', WORKER_POLL_MS: '50', SMTP_POOL_SIZE: '5', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-backlog-')) }, null, [], ['--worker-only']);
  const start = await delivered();
  const tenth = Math.floor(BACKLOG / 10);
  const at = async (n: number) => {
    for (;;) {
      if ((await delivered()) - start >= n) return performance.now();
      if (worker.proc.exitCode !== null) throw new Error(`worker exited: ${worker.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const s0 = performance.now();
  const t10 = await at(tenth);
  const rssAfterFirst = usage(worker.pid).rssBytes;
  const t90 = await at(BACKLOG - tenth);
  const t100 = await at(BACKLOG);
  const rssEnd = usage(worker.pid).rssBytes;
  await worker.stop();
  await c.end();
  const first = tenth / ((t10 - s0) / 1000);
  const last = tenth / ((t100 - t90) / 1000);
  const ratio = last / first;
  const mem = rssEnd / rssAfterFirst;
  rows.push({ name: `Backlog: ${BACKLOG} queued messages drained by the worker (last 10% vs first 10%)`, opsPerSec: BACKLOG / ((t100 - s0) / 1000), ratio, target: '≥ 0.8 × first 10%; RSS end ≤ 1.2 × after first 10%', pass: ratio >= 0.8 - noise && mem <= 1.2, note: `first 10% ${first.toFixed(0)}/s, last 10% ${last.toFixed(0)}/s; RSS ${(rssAfterFirst / 1048576).toFixed(0)} → ${(rssEnd / 1048576).toFixed(0)} MB (×${mem.toFixed(2)}); seeded in ${(seededMs / 1000).toFixed(1)} s` });
  log('backlog', Math.round(first), '→', Math.round(last), 'mails/s; rss x', mem.toFixed(2));
}

async function dropSchema(s: string) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`drop schema if exists ${s} cascade`);
  await c.end();
}

function writeResults(ms: number) {
  const v = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
    } catch {
      return 'unknown';
    }
  };
  const fmt = (n: number | undefined, d = 0) => (n === undefined ? '' : n.toFixed(d));
  const lines = [
    '# Benchmark results',
    '',
    `Run ${new Date().toISOString()} in ${(ms / 1000).toFixed(0)} s by \`npm run bench\`. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${v('psql', ['--version'])}; RabbitMQ ${v('rabbitmqctl', ['-q', 'version'])}.`,
    `Each load runs ${SECONDS} s closed-loop (${CONNECTIONS} connections) after ${WARMUP} s unmeasured, with the load generator on the same 2 cores. Ratios are against floors measured in this run; run-to-run noise (two F_tx runs) ${(noise * 100).toFixed(1)}%, so a ratio passes at target − noise.`,
    '',
    '| scenario | ops/s | p50 ms | p99 ms | CPU ms/op (server) | peak RSS MB (server) | ratio | target | pass | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${fmt(r.opsPerSec)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.cpuMsPerOp, 2)} | ${fmt(r.peakRssMb)} | ${fmt(r.ratio, 2)} | ${r.target ?? ''} | ${r.pass === undefined ? '' : r.pass ? 'yes' : '**no**'} | ${r.note ?? ''} |`),
    '',
  ];
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const notes = previous.includes('## Notes') ? previous.slice(previous.indexOf('## Notes')) : '## Notes\n\n';
  fs.writeFileSync(file, `${lines.join('\n')}\n${notes}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
