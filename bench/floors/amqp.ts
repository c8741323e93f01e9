// F_amqp: a plain amqplib consumer doing the same three-insert transaction and replying.
import * as amqp from 'amqplib';

process.env.FLOOR_HTTP = 'off';
const { threeInserts } = await import('./tx.js');
const conn = await amqp.connect(process.env.AMQP_URL!);
const ch = await conn.createChannel();
const queue = process.env.FLOOR_QUEUE!;
await ch.assertQueue(queue, { durable: true });
await ch.prefetch(Number(process.env.PREFETCH ?? 32));
await ch.consume(queue, async (m) => {
  if (!m) return;
  const id = await threeInserts(JSON.stringify(JSON.parse(m.content.toString())));
  ch.sendToQueue(m.properties.replyTo, Buffer.from(JSON.stringify({ meta: { responseStatus: { code: 0, messages: [] }, params: [] }, messageId: id })), { correlationId: m.properties.correlationId, contentType: 'application/json' });
  ch.ack(m);
});
console.log('ready');
process.on('SIGTERM', () => conn.close().then(() => process.exit(0)));
