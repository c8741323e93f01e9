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
