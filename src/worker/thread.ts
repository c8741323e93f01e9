// The delivery worker on a thread of the gateway process (WORKER_THREAD). It is the worker `npm run worker` runs,
// with its own database pool and SMTP connections, so intake and delivery each get a core of their own. The
// gateway thread wakes it when it stores work, counts its outcomes in /metrics, and stops it on SIGTERM.
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.js';
import { startGateway } from '../gateway.js';
import { createLogger } from '../log.js';
import type { FromThread, ToThread } from './delivery-thread.js';

const { config, logLevel } = workerData as { config: Config; logLevel: string };
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
  const gw = await startGateway(config, {
    http: false,
    worker: true,
    prepared: true,
    log: createLogger(logLevel).child({ thread: 'delivery' }),
    onOutcome: (channel, outcome) => {
      const key = `${channel}\t${outcome.kind}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      flushTimer ??= setTimeout(flush, 250);
    },
    onTakeover: (n) => post({ type: 'takeovers', n }),
  });
  port.on('message', (m: ToThread) => {
    if (m.type === 'wake') gw.worker?.wake();
    else if (m.type === 'stop')
      void gw.stop().finally(() => {
        flush();
        post({ type: 'stopped' });
        port.close();
      });
  });
  post({ type: 'ready', workerId: gw.worker!.workerId });
} catch (e) {
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  port.close();
}
