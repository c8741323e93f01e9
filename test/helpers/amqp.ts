// A test producer on the real RabbitMQ: publish a request, wait for the answer on an exclusive reply queue.
import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';

export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export type Reply = { body: string; contentType?: string; correlationId?: string; json?: any };

export class Producer {
  private conn!: amqp.ChannelModel;
  ch!: amqp.Channel;
  replyQueue = '';
  private waiting = new Map<string, (r: Reply) => void>();
  replies: Reply[] = [];

  /** `url`: the broker, or a fault proxy in front of it (test/helpers/tcp-proxy.ts). */
  static async open(url = AMQP_URL): Promise<Producer> {
    const p = new Producer();
    p.conn = await amqp.connect(url);
    // A lost connection shows in the requests that go unanswered; unheard, its 'error' would end the test process.
    p.conn.on('error', () => undefined);
    p.ch = await p.conn.createChannel();
    p.replyQueue = (await p.ch.assertQueue('', { exclusive: true, autoDelete: true })).queue;
    await p.ch.consume(p.replyQueue, (m) => m && p.onReply(m), { noAck: true });
    return p;
  }

  onReply(m: amqp.ConsumeMessage) {
    const body = m.content.toString('utf8');
    const r: Reply = { body, contentType: m.properties.contentType, correlationId: m.properties.correlationId };
    if (r.contentType?.includes('json')) r.json = JSON.parse(body);
    this.replies.push(r);
    const w = this.waiting.get(r.correlationId ?? '');
    if (w) {
      this.waiting.delete(r.correlationId!);
      w(r);
    }
  }

  publish(queue: string, body: string | Buffer, o: { method?: string; contentType?: string; headers?: Record<string, unknown>; messageId?: string; correlationId?: string; replyTo?: string | null; contentEncoding?: string } = {}) {
    const correlationId = o.correlationId ?? randomUUID();
    this.ch.sendToQueue(queue, Buffer.isBuffer(body) ? body : Buffer.from(body), {
      contentType: o.contentType ?? 'application/json',
      contentEncoding: o.contentEncoding,
      correlationId,
      messageId: o.messageId,
      replyTo: o.replyTo === null ? undefined : (o.replyTo ?? this.replyQueue),
      headers: { 'X-Client-Hash-Key': 'aa87cd4bcd3445bbc4', 'X-Method-Name': o.method ?? 'Send_V2_Send', ...(o.headers ?? {}) },
      persistent: true,
    });
    return correlationId;
  }

  /** Publishes and waits for the answer with the same correlation_id. */
  request(queue: string, body: string | Buffer, o: Parameters<Producer['publish']>[2] = {}, ms = 15000): Promise<Reply> {
    const correlationId = o.correlationId ?? randomUUID();
    const done = new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer for ${correlationId}`)), ms);
      this.waiting.set(correlationId, (r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
    this.publish(queue, body, { ...o, correlationId });
    return done;
  }

  async close() {
    await this.conn.close().catch(() => undefined);
  }

  /** Removes a test gateway's queue, its dead-letter queue and reply exchange, then closes. */
  async removeAndClose(queue: string) {
    await this.ch.deleteQueue(queue).catch(() => undefined);
    await this.ch.deleteQueue(`${queue}.dead`).catch(() => undefined);
    await this.ch.deleteExchange(`${queue}.reply`).catch(() => undefined);
    await this.close();
  }
}

/** Waits until a test gateway consumes its queue (its readiness), so what a test publishes next is taken. */
export async function queueConsumed(url: string, ms = 15000) {
  const until = Date.now() + ms;
  while ((await fetch(`${url}/health/ready`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > until) throw new Error(`${url} never became ready (queue intake consuming)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
