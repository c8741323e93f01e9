// The delivery thread's side (WORKER_THREAD): runs the delivery main.ts composes for it, reports its outcomes to the
// gateway thread in batches, and wakes or stops it when told (delivery-thread.ts is the gateway thread's side).
import { parentPort } from 'node:worker_threads';
import type { Outcome } from '../core/delivery.js';
import type { FromThread, ToThread } from './delivery-thread.js';

export type ThreadHooks = { onOutcome(channel: string, outcome: Outcome): void; onTakeover(n: number): void };
export type ThreadDelivery = { workerId: string; wake(): void; stop(): Promise<void> };

export async function serveDeliveryThread(start: (hooks: ThreadHooks) => Promise<ThreadDelivery>): Promise<void> {
  const port = parentPort!;
  const post = (m: FromThread) => port.postMessage(m);

  // Outcomes go to the gateway thread's metrics in batches, not one message per delivery.
  const counts = new Map<string, number>();
  let flushTimer: NodeJS.Timeout | undefined;
  function flush() {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (counts.size === 0) return;
    post({ type: 'outcomes', counts: [...counts].map(([key, n]) => [...(key.split('\t') as [string, string]), n]) });
    counts.clear();
  }

  try {
    const delivery = await start({
      onOutcome: (channel, outcome) => {
        const key = `${channel}\t${outcome.kind}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        flushTimer ??= setTimeout(flush, 250);
      },
      onTakeover: (n) => post({ type: 'takeovers', n }),
    });
    port.on('message', (m: ToThread) => {
      if (m.type === 'wake') delivery.wake();
      else if (m.type === 'stop')
        void delivery.stop().finally(() => {
          flush();
          post({ type: 'stopped' });
          port.close();
        });
    });
    post({ type: 'ready', workerId: delivery.workerId });
  } catch (e) {
    post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    port.close();
  }
}
