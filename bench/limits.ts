// Bounded resources as users meet them (issue 15): /health during a slowloris, and peak RSS under many large bodies.
import http from 'node:http';
import net from 'node:net';
import { usage } from './lib/proc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET /health one after another for `seconds`: its latency percentiles (ms) and how many did not answer 200. */
async function healthLatency(url: string, seconds: number): Promise<{ p50: number; p99: number; n: number; failed: number }> {
  const lat: number[] = [];
  let failed = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t0 = performance.now();
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(30_000) }).then(
      async (r) => (await r.arrayBuffer(), r.status === 200),
      () => false,
    );
    lat.push(performance.now() - t0);
    if (!ok) failed++;
    await sleep(20);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return { p50: q(0.5), p99: q(0.99), n: lat.length, failed };
}

/**
 * /health p99 alone, then while `connections` slow senders trickle header bytes (one every 500 ms); and how many of
 * them the gateway had closed after `closeWithinMs`.
 */
export async function slowloris(url: string, connections: number, seconds: number, closeWithinMs: number) {
  const calm = await healthLatency(url, seconds);
  const port = Number(new URL(url).port);
  const slow = Array.from({ length: connections }, () => {
    const s = net.connect(port, '127.0.0.1');
    const c = { s, closed: false };
    s.on('error', () => undefined).on('close', () => (c.closed = true));
    s.once('connect', () => s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
    const t = setInterval(() => !c.closed && s.write('a'), 500);
    s.on('close', () => clearInterval(t));
    return c;
  });
  const t0 = Date.now();
  const during = await healthLatency(url, seconds);
  await sleep(Math.max(0, closeWithinMs - (Date.now() - t0)));
  const closed = slow.filter((c) => c.closed).length;
  for (const c of slow) c.s.destroy();
  return { calm, during, closed };
}

/** POSTs `count` copies of `body` at once; the answers' statuses, and the gateway's peak RSS (VmHWM) meanwhile. */
export async function concurrentBodies(url: string, pid: number, body: Buffer, headers: Record<string, string>, count: number) {
  const before = usage(pid);
  const t0 = performance.now();
  const statuses = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve) => {
          const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          });
          req.on('error', () => resolve(0));
          req.end(body);
        }),
    ),
  );
  const after = usage(pid);
  const tally: Record<string, number> = {};
  for (const s of statuses) tally[s] = (tally[s] ?? 0) + 1;
  return { beforeRssMb: before.rssBytes / 1048576, peakRssMb: after.peakRssBytes / 1048576, seconds: (performance.now() - t0) / 1000, tally };
}

type Stall = { name: string; request: () => Promise<number> };

/**
 * /health latency while one pathological request after another runs (issue 15: each of these froze /health for
 * seconds): a template preview with nested each, a plain-JSON body with a million keys, and a portal fetch of a
 * message whose HTML is 80,000 `<b>`. With `gapMs` each request is followed by that pause (one of them running at a
 * time among other traffic); without, they follow each other at once (one caller hammering). Returns /health's
 * percentiles during each, and the statuses the requests got.
 */
export async function stalls(url: string, adminToken: string, key: string, seconds: number, gapMs = 0) {
  const json = async (path: string, body: unknown, headers: Record<string, string>) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const K = { 'x-client-hash-key': key };
  const T = '/hammy/json/send/v2/templates';
  await json(T, { messageType: 'BENCH.NEST', subject: 's', textBody: '{{#each DATA.a}}{{#each @root.DATA.a}}{{#each @root.DATA.a}}<p>{{this}}</p>{{/each}}{{/each}}{{/each}}' }, K);
  const xmlData = '<DATA>' + Array.from({ length: 100 }, (_, i) => `<a>v${i}</a>`).join('') + '</DATA>';
  const millionKeys = Buffer.from('{' + Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":1`).join(',') + '}');
  const portal = await json('/hammy/admin/v1/clients/1/portal-keys', {}, { authorization: `Bearer ${adminToken}` });
  const portalKey = portal.body.data.attributes.key as string;
  const sent = await json('/hammy/json/send/v2/send', { recipientName: 'Nagy', mailSubject: 'Nagy HTML', mailHtmlBody: '<b>'.repeat(80_000), channel: 'PORTAL', partnerRef: 'BENCH-REF', recipientEmailAddress: 'nagy@example.com' }, K);
  let remoteId: string | undefined;
  for (let i = 0; i < 300 && !remoteId; i++) {
    const m = (await (await fetch(`${url}/hammy/json/send/v2/messages/${sent.body.messageId}`, { headers: K })).json()) as any;
    if (m.data.attributes.publishedAt) remoteId = m.data.attributes.remoteContentId;
    else await sleep(100);
  }
  const cases: Stall[] = [
    { name: 'a template preview with nested each (2 kB in, 15 MB out)', request: async () => (await json(`${T}/BENCH.NEST/preview`, { recipientName: 'X', xmlData }, K)).status },
    {
      name: 'a plain-JSON body with a million keys',
      request: async () => (await fetch(`${url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': 'application/json', ...K }, body: millionKeys }).then(async (r) => (await r.arrayBuffer(), r.status))),
    },
    { name: 'a portal fetch of a message whose HTML is 80,000 <b>', request: async () => (await fetch(`${url}/portal/v1/messages/${remoteId}`, { headers: { 'x-portal-key': portalKey, 'x-recipient-id': 'BENCH-REF' } }).then(async (r) => (await r.arrayBuffer(), r.status))) },
  ];
  const out = [];
  for (const c of cases) {
    let running = true;
    const statuses: Record<string, number> = {};
    const loop = (async () => {
      while (running) {
        const s = await c.request().catch(() => 0);
        statuses[s] = (statuses[s] ?? 0) + 1;
        if (gapMs) await sleep(gapMs);
      }
    })();
    const health = await healthLatency(url, seconds);
    running = false;
    await loop;
    out.push({ name: c.name, health, statuses });
  }
  return out;
}
