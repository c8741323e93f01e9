// Closed-loop load: autocannon for HTTP; a small RPC driver for AMQP. Both report ops/s and latency percentiles.
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';

export type LoadResult = { ops: number; seconds: number; opsPerSec: number; p50: number; p99: number; errors: number };

export async function httpLoad(o: { url: string; body: string | Buffer; headers: Record<string, string>; connections: number; seconds: number; expect?: number }): Promise<LoadResult> {
  const r = await autocannon({
    url: o.url,
    method: 'POST',
    body: o.body,
    headers: o.headers,
    connections: o.connections,
    duration: o.seconds,
    pipelining: 1,
  });
  const ok = r.statusCodeStats?.[String(o.expect ?? 200) as '200']?.count ?? r['2xx'];
  return { ops: ok, seconds: o.seconds, opsPerSec: ok / o.seconds, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts };
}

/** Keeps `outstanding` requests in flight on `queue`, each answered on our reply queue. */
export async function amqpLoad(o: { url: string; queue: string; body: string; contentType: string; headers: Record<string, unknown>; outstanding: number; seconds: number }): Promise<LoadResult> {
  const conn = await amqp.connect(o.url);
  const ch = await conn.createChannel();
  const reply = (await ch.assertQueue('', { exclusive: true })).queue;
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let errors = 0;
  let stop = false;
  const end = Date.now() + o.seconds * 1000;
  const publish = () => {
    const id = randomUUID();
    started.set(id, performance.now());
    ch.sendToQueue(o.queue, Buffer.from(o.body), { contentType: o.contentType, correlationId: id, messageId: id, replyTo: reply, headers: o.headers });
  };
  await new Promise<void>((resolve) => {
    ch.consume(
      reply,
      (m) => {
        if (!m) return;
        const t = started.get(m.properties.correlationId);
        if (t !== undefined) {
          started.delete(m.properties.correlationId);
          latencies.push(performance.now() - t);
          if (!/"code"\s*:\s*0|<code>0<\/code>/.test(m.content.toString())) errors++;
        }
        if (!stop && Date.now() < end) publish();
        else {
          stop = true;
          if (started.size === 0) resolve();
        }
      },
      { noAck: true },
    );
    for (let i = 0; i < o.outstanding; i++) publish();
    setTimeout(() => resolve(), o.seconds * 1000 + 30000).unref();
  });
  await conn.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { ops: latencies.length, seconds: o.seconds, opsPerSec: latencies.length / o.seconds, p50: q(0.5), p99: q(0.99), errors };
}
