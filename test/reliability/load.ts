// Load from all three intakes at once, remembering every messageId that was accepted (status 0).
import { randomUUID } from 'node:crypto';
import { envelope, postSoap } from '../helpers/soap.js';
import { AMQP_URL, Producer } from '../helpers/amqp.js';

export type Tally = { accepted: Set<number>; refused: Map<number, number>; errors: number; sent: number };

export const newTally = (): Tally => ({ accepted: new Set(), refused: new Map(), errors: 0, sent: 0 });
const KEY = 'aa87cd4bcd3445bbc4';
const count = (t: Tally, code: number, id?: number) => {
  if (code === 0 && id !== undefined) t.accepted.add(id);
  else t.refused.set(code, (t.refused.get(code) ?? 0) + 1);
};

const body = (tag: string, i: number) => ({ recipientEmailAddress: `r${i}@example.com`, recipientName: 'Reliability', mailSubject: `${tag} ${i}`, mailBody: 'b' });

export async function soapLoop(url: string, tag: string, until: () => boolean, t: Tally) {
  for (let i = 0; until(); i++) {
    t.sent++;
    try {
      const r = await postSoap(url, envelope('sendMail', { clientHashKey: KEY, ...body(`${tag} soap`, i) }));
      if (r.fault) t.errors++;
      else count(t, r.code!, r.messageId);
    } catch {
      t.errors++;
    }
  }
}

export async function restLoop(url: string, tag: string, until: () => boolean, t: Tally) {
  for (let i = 0; until(); i++) {
    t.sent++;
    try {
      const res = await fetch(`${url}/hammy/json/send/v2/send`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-hash-key': KEY }, body: JSON.stringify(body(`${tag} rest`, i)) });
      const j = await res.json();
      count(t, j.meta.responseStatus.code, j.messageId);
    } catch {
      t.errors++;
    }
  }
}

/**
 * AMQP is at-least-once on the producer's side too: a request without an answer is published again
 * (same message_id) until it gets one, across broker outages. `url`: the broker or a fault proxy before it.
 */
export async function amqpLoad(queue: string, tag: string, n: number, t: Tally, duringMs: number, url = AMQP_URL) {
  const pending = new Map<string, string>();
  for (let i = 0; i < n; i++) pending.set(randomUUID(), JSON.stringify(body(`${tag} amqp`, i)));
  const until = Date.now() + duringMs + 60000;
  let producer: Producer | undefined;
  let first = true;
  while (pending.size && Date.now() < until) {
    try {
      producer ??= await Producer.open(url);
      const wave = [...pending].map(([id, b]) =>
        producer!.request(queue, b, { messageId: id, correlationId: id }, 8000).then(
          (r) => {
            pending.delete(id);
            count(t, r.json.meta.responseStatus.code, r.json.messageId);
          },
          () => undefined,
        ),
      );
      if (first) {
        t.sent += n;
        first = false;
      }
      // pace the first wave over the fault window
      await Promise.all(wave);
    } catch {
      await producer?.close();
      producer = undefined;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await producer?.close();
  t.errors += pending.size;
}
