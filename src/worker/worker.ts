// The delivery worker: claims due jobs, hands each message to its channel, records what followed (SPEC §4 step 6).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { lazyChild } from '../log.js';
import type { Outcome } from '../channels/channel.js';
import type { ClaimedJob, JobStore } from '../store/jobs.js';
import type { Pipeline } from './pipeline.js';

export type WorkerOptions = {
  jobs: JobStore;
  pipeline: Pipeline;
  log: Logger;
  concurrency: number;
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  lockTimeoutMs: number;
  /** Told every outcome, for metrics. */
  onOutcome?: (channel: string, outcome: Outcome) => void;
};

const SETTLE_TRIES = 40; // about three minutes of a database outage
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exponential back-off with jitter, capped at one hour. */
export function backoffMs(attempts: number, baseMs: number): number {
  const raw = Math.min(baseMs * 2 ** Math.min(attempts - 1, 20), 3600_000);
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

/**
 * An error no step expected becomes a reason safe to show the client (issue 15 point 6): its text may hold SQL,
 * a file path or a library's internals, so that goes to the log with the messageId, and the event says only what failed.
 */
export function safeReason(log: () => Logger, e: unknown, what: string): string {
  log().error({ err: e }, `delivery: ${what}`);
  return `${what}; the gateway log has the detail`;
}

export function createWorker(o: WorkerOptions) {
  const workerId = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  const inflight = new Set<Promise<void>>();
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  async function settle(job: ClaimedJob, outcome: Outcome) {
    if (outcome.kind === 'sent') return o.jobs.markSent(job, workerId, outcome.ref, outcome.status);
    if (outcome.kind === 'failed') return o.jobs.markFailed(job, workerId, outcome.reason);
    if (job.attempts >= o.maxAttempts) return o.jobs.markFailed(job, workerId, `gave up after ${job.attempts} attempts: ${outcome.reason}`);
    return o.jobs.markRetry(job, workerId, outcome.reason, outcome.afterMs ?? backoffMs(job.attempts, o.retryBaseMs));
  }

  async function deliver(job: ClaimedJob) {
    const log = lazyChild(o.log, { messageId: job.messageId, attempt: job.attempts });
    let outcome: Outcome;
    try {
      const message = job.message !== undefined ? job.message : await o.jobs.loadForDelivery(job.messageId);
      outcome = !message
        ? { kind: 'failed', reason: 'message vanished' }
        : await o.pipeline(message).catch((e: unknown): Outcome => ({ kind: 'retry', reason: safeReason(log, e, 'unexpected error') }));
      if (message) o.onOutcome?.(message.channel, outcome);
    } catch (e) {
      outcome = { kind: 'retry', reason: safeReason(log, e, 'database unavailable') };
    }
    if ('detail' in outcome && outcome.detail !== undefined) log().warn({ err: outcome.detail, reason: outcome.reason }, 'delivery step failed');
    // What happened must be recorded, not done again (a mail the SMTP server took is not sent twice): while
    // the database is away, keep trying to settle. Only if this process dies does the lock time out and the job run again.
    for (let i = 0; ; i++) {
      try {
        const settled = await settle(job, outcome);
        if (o.log.isLevelEnabled('info')) log().info({ outcome: outcome.kind, reason: 'reason' in outcome ? outcome.reason : undefined, settled }, 'delivery');
        return;
      } catch (e) {
        if (i >= (running ? SETTLE_TRIES : 3)) {
          log().error({ err: e }, 'delivery could not be recorded; the job runs again after its lock expires');
          return;
        }
        log().warn({ err: (e as Error).message, try: i + 1 }, 'delivery not recorded yet; trying again');
        await sleep(Math.min(250 * 2 ** i, 5000));
      }
    }
  }

  // A busy worker claims once a quarter of its slots is free, not each time one delivery ends: one claim
  // statement per job would cost more than the deliveries' own database work.
  // (An idle worker has all its slots free, so it always claims.)
  const claimAt = Math.max(1, Math.ceil(o.concurrency / 4));

  async function loop() {
    while (running) {
      const free = o.concurrency - inflight.size;
      let claimed: ClaimedJob[] = [];
      if (free >= claimAt) {
        try {
          claimed = await o.jobs.claimDueJobs(workerId, free, o.lockTimeoutMs);
        } catch (e) {
          o.log.error({ err: e }, 'claiming jobs failed');
        }
      }
      for (const job of claimed) {
        const p: Promise<void> = deliver(job).finally(() => {
          inflight.delete(p);
          wakeUp?.();
        });
        inflight.add(p);
      }
      if (claimed.length === 0 || o.concurrency - inflight.size < claimAt) await wait(o.pollMs);
    }
  }

  return {
    workerId,
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    /** New work was committed: look now instead of at the next poll. */
    wake() {
      wakeUp?.();
    },
    /** Stops claiming, then waits for the deliveries in flight. */
    async stop() {
      running = false;
      wakeUp?.();
      await loopDone;
      await Promise.all([...inflight]);
    },
  };
}
export type Worker = ReturnType<typeof createWorker>;
