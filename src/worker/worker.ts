// The delivery worker: claims due jobs, hands each message to its channel, records what followed (SPEC §4 step 6).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { lazyChild } from '../log.js';
import type { Outcome } from '../core/delivery.js';
import { lateOutcome, withDeadline } from '../core/deadline.js';
import type { ClaimedJob, JobStore } from '../store/jobs.js';
import type { Pipeline } from './pipeline.js';

/** How a worker runs: config.ts reads these from the environment (WORKER_*, RETRY_*); leaseMs, heartbeatMs and deliveryTimeoutMs are explained there. */
export type WorkerSettings = {
  concurrency: number;
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  leaseMs: number;
  heartbeatMs: number;
  deliveryTimeoutMs: number;
};

export type WorkerOptions = WorkerSettings & {
  jobs: JobStore;
  /** Records that a message is published (an outcome with `published`: PORTAL). */
  publish: (messageId: number) => Promise<void>;
  pipeline: Pipeline;
  log: Logger;
  /** Expired idempotency records are purged every purgeIntervalMs (0: never). */
  purgeIntervalMs?: number;
  purge?: () => Promise<number>;
  /** Told every outcome, for metrics. */
  onOutcome?: (channel: string, outcome: Outcome) => void;
  /** Told how many jobs were taken over from a worker whose lease expired, for metrics. */
  onTakeover?: (n: number) => void;
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
  // The jobs whose leases the heartbeat renews; a job leaves when its delivery was recorded (or given up).
  const held = new Map<number, ClaimedJob>();
  const lost = new Set<number>();
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let beat: NodeJS.Timeout | undefined;

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
    if (outcome.kind !== 'failed' && outcome.published) await o.publish(job.messageId);
    if (outcome.kind === 'sent') return o.jobs.markSent(job, workerId, outcome.ref, outcome.status);
    if (outcome.kind === 'failed') return o.jobs.markFailed(job, workerId, outcome.reason);
    if (job.attempts >= o.maxAttempts) return o.jobs.markFailed(job, workerId, `gave up after ${job.attempts} attempts: ${outcome.reason}`);
    return o.jobs.markRetry(job, workerId, outcome.reason, outcome.afterMs ?? backoffMs(job.attempts, o.retryBaseMs));
  }

  // The delivery's deadline is a backstop: each outbound call has its own, shorter one.
  const deliverWithin = (message: Parameters<Pipeline>[0], log: () => Logger) =>
    withDeadline(o.pipeline(message), o.deliveryTimeoutMs, 'delivery').catch(
      (e: unknown): Outcome => lateOutcome(e) ?? { kind: 'retry', reason: safeReason(log, e, 'unexpected error') },
    );

  async function deliver(job: ClaimedJob) {
    const log = lazyChild(o.log, { messageId: job.messageId, attempt: job.attempts });
    let outcome: Outcome;
    try {
      const message = job.message !== undefined ? job.message : await o.jobs.loadForDelivery(job.messageId);
      outcome = !message ? { kind: 'failed', reason: 'message vanished' } : await deliverWithin(message, log);
      if (message) o.onOutcome?.(message.channel, outcome);
    } catch (e) {
      outcome = { kind: 'retry', reason: safeReason(log, e, 'database unavailable') };
    }
    if ('detail' in outcome && outcome.detail !== undefined) log().warn({ err: outcome.detail, reason: outcome.reason }, 'delivery step failed');
    // What happened must be recorded, not done again (a mail the SMTP server took is not sent twice): while
    // the database is away, keep trying to settle (the heartbeat keeps the lease). Only if this process dies, or its
    // lease lapses, does another worker take the job over and run it again.
    for (let i = 0; ; i++) {
      try {
        const settled = await settle(job, outcome);
        if (!settled) {
          // Another worker took the job over after this one's lease expired (a pause, a partition): its outcome counts.
          log().warn({ outcome: outcome.kind, workerId }, 'delivery not recorded: the lease on this job was lost and another worker holds it now; this delivery may have sent a copy');
        } else if (o.log.isLevelEnabled('info')) log().info({ outcome: outcome.kind, reason: 'reason' in outcome ? outcome.reason : undefined, settled }, 'delivery');
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

  /** Renews the leases of the deliveries in flight; one statement for all of them. */
  async function heartbeat() {
    const jobs = [...held.values()].filter((j) => !lost.has(j.id));
    if (jobs.length === 0) return;
    try {
      const still = await o.jobs.renewLeases(workerId, jobs, o.leaseMs);
      for (const j of jobs) {
        if (still.has(j.id) || !held.has(j.id)) continue; // settled meanwhile, by this worker
        lost.add(j.id);
        o.log.warn({ messageId: j.messageId, workerId }, 'lease lost: another worker took this job over; this worker will not record its delivery');
      }
    } catch (e) {
      o.log.warn({ err: (e as Error).message }, 'leases could not be renewed; trying again at the next heartbeat');
    }
  }

  function tookOver(claimed: ClaimedJob[]) {
    const taken = claimed.filter((j) => j.takenFrom && j.takenFrom !== workerId);
    if (taken.length === 0) return;
    o.onTakeover?.(taken.length);
    o.log.warn(
      { messageIds: taken.map((j) => j.messageId), from: [...new Set(taken.map((j) => j.takenFrom))], workerId },
      'took over jobs whose lease expired while another worker held them: these messages may have been sent twice',
    );
  }

  let purgeAt = 0;
  let purging: Promise<void> | undefined;
  // Runs beside the deliveries (a busy worker purges too), one pass at a time.
  function purgeIfDue() {
    const every = o.purgeIntervalMs ?? 0;
    if (!o.purge || every <= 0 || purging || Date.now() < purgeAt) return;
    purging = purgeOnce(o.purge, every).finally(() => (purging = undefined));
  }
  async function purgeOnce(purge: () => Promise<number>, every: number) {
    try {
      const n = await purge();
      // Rows went: more may wait, and the next small pass comes soon instead of a large one now.
      purgeAt = Date.now() + (n > 0 ? Math.min(1000, every) : every);
      if (n > 0) o.log.debug({ purged: n }, 'expired idempotency records purged');
    } catch (e) {
      purgeAt = Date.now() + every;
      o.log.warn({ err: (e as Error).message }, 'purging expired idempotency records failed; trying again later');
    }
  }

  async function loop() {
    while (running) {
      const free = o.concurrency - inflight.size;
      let claimed: ClaimedJob[] = [];
      if (free >= claimAt) {
        try {
          claimed = await o.jobs.claimDueJobs(workerId, free, o.leaseMs, [...held.keys()]);
        } catch (e) {
          o.log.error({ err: e }, 'claiming jobs failed');
        }
      }
      tookOver(claimed);
      for (const job of claimed) {
        held.set(job.id, job);
        const p: Promise<void> = deliver(job).finally(() => {
          held.delete(job.id);
          lost.delete(job.id);
          inflight.delete(p);
          wakeUp?.();
        });
        inflight.add(p);
      }
      purgeIfDue();
      if (claimed.length === 0 || o.concurrency - inflight.size < claimAt) await wait(o.pollMs);
    }
  }

  return {
    workerId,
    start() {
      if (running) return;
      running = true;
      // The heartbeat runs apart from the loop, so a long wait or claim there never lets a lease run out.
      beat = setInterval(() => void heartbeat(), o.heartbeatMs);
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
      await Promise.all([...inflight, purging]);
      clearInterval(beat);
    },
  };
}
export type Worker = ReturnType<typeof createWorker>;
