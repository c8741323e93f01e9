// The gateway thread's side of the delivery thread (worker/thread.ts the other): starts it, wakes it, starts it again if it
// dies, stops it. Jobs a dead thread held are delivered once their leases expire, as after a worker process dies.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

export type ToThread = { type: 'wake' } | { type: 'stop' };
export type FromThread =
  | { type: 'ready'; workerId: string }
  | { type: 'outcomes'; counts: [channel: string, outcome: string, n: number][] }
  | { type: 'takeovers'; n: number }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

export type DeliveryThreadOptions = {
  /** The module the thread runs (main.ts, which composes the delivery for it) and what it is given as workerData. */
  entry: URL;
  data: unknown;
  /** Its level is the thread's own logger's. */
  log: Logger;
  /** Told the delivery outcomes the thread counted, for metrics. */
  onOutcomes?: (channel: string, outcome: string, n: number) => void;
  /** Told the jobs the thread took over from a worker whose lease expired. */
  onTakeovers?: (n: number) => void;
};

export type DeliveryThread = {
  /** New work was committed: the thread looks now instead of at its next poll. */
  wake(): void;
  state(): 'running' | 'restarting' | 'stopped';
  /** The running thread, if any (tests end it to see it come back). */
  thread(): Worker | undefined;
  /** Stops claiming, waits for the deliveries in flight, ends the thread. */
  stop(): Promise<void>;
};

// The compiled JavaScript runs as it is. As TypeScript (the tests, through tsx), the thread first registers tsx:
// a worker thread does not inherit the loader hooks of `--import tsx` (privatenumber/tsx#354).
const TSX_API = import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
function entryOf(entry: URL): [string | URL, { eval?: boolean }] {
  if (!TSX_API || !entry.pathname.endsWith('.ts')) return [entry, {}];
  return [`import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true }];
}
// A dead thread is started again after FIRST_RESTART_MS, doubling up to MAX_RESTART_MS while restarts keep failing;
// one that ran RAN_WELL_MS before it died starts the count again.
const FIRST_RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;
const RAN_WELL_MS = 10_000;

/** Resolves once the first thread is delivering; rejects if it cannot start. */
export async function startDeliveryThread(o: DeliveryThreadOptions): Promise<DeliveryThread> {
  let current: Worker | undefined; // ready and delivering
  let live: Worker | undefined; // started and not yet ended (perhaps still starting)
  let state: 'running' | 'restarting' | 'stopped' = 'restarting';
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let delay = FIRST_RESTART_MS;
  let everReady = false;
  let wakePending = false;
  const entry = entryOf(o.entry);

  function spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = new Worker(entry[0], { ...entry[1], workerData: o.data });
      live = t;
      const startedAt = performance.now();
      let ready = false;
      let error: Error | undefined;
      t.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          ready = true;
          everReady = true;
          current = t;
          state = 'running';
          o.log.info({ workerId: m.workerId }, 'delivery thread running');
          resolve();
        } else if (m.type === 'outcomes') {
          for (const [channel, outcome, n] of m.counts) o.onOutcomes?.(channel, outcome, n);
        } else if (m.type === 'takeovers') {
          o.onTakeovers?.(m.n);
        } else if (m.type === 'failed') {
          error = new Error(`delivery thread could not start: ${m.message}`);
        }
      });
      t.on('error', (e) => (error = e));
      t.on('exit', (code) => {
        if (current === t) current = undefined;
        if (live === t) live = undefined;
        if (!ready) reject(error ?? new Error(`delivery thread exited with code ${code} before it was ready`));
        // The first start failing fails the gateway's start; after that, a thread that dies is started again.
        if (stopping || !everReady) return;
        state = 'restarting';
        if (ready && performance.now() - startedAt >= RAN_WELL_MS) delay = FIRST_RESTART_MS;
        o.log.error({ err: error, code, restartInMs: delay }, 'delivery thread ended; starting it again');
        restartTimer = setTimeout(() => {
          restartTimer = undefined;
          spawn().catch(() => undefined); // logged by its own exit handler
        }, delay);
        delay = Math.min(delay * 2, MAX_RESTART_MS);
      });
    });
  }

  await spawn();
  return {
    wake() {
      // Many accepts commit in one turn (group commit): one message to the thread is enough.
      if (wakePending) return;
      wakePending = true;
      queueMicrotask(() => {
        wakePending = false;
        current?.postMessage({ type: 'wake' } satisfies ToThread);
      });
    },
    state: () => state,
    thread: () => current,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      // A thread still starting gets the message once it listens (a port keeps messages until then).
      const t = live;
      if (t) {
        const exited = new Promise<void>((resolve) => t.once('exit', () => resolve()));
        t.postMessage({ type: 'stop' } satisfies ToThread);
        // A thread that said it stopped but keeps something open is ended after a moment.
        const stopped = new Promise<void>((resolve) => t.on('message', (m: FromThread) => m.type === 'stopped' && resolve()));
        await Promise.race([exited, stopped.then(() => new Promise((r) => setTimeout(r, 5000).unref()))]);
        await t.terminate();
      }
      state = 'stopped';
    },
  };
}
