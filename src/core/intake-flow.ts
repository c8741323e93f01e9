// Intake flow control: when messages arrive faster than the workers deliver them, a new accept waits a little
// before it is stored, so delivery keeps its share of the machine and the queue stops growing. Postfix does the
// same with in_flow_delay. Nothing is refused: a request waits at most maxDelayMs, then goes ahead anyway.

/** Jobs that are due and waiting for a worker, and jobs a worker holds now. */
export type Backlog = { waiting: number; running: number };

export type IntakeFlowOptions = {
  /** Waiting jobs above this, while some worker is delivering, slow the intake down. 0 turns flow control off. */
  highWater: number;
  /** The longest an accept waits. 0 turns flow control off. */
  maxDelayMs: number;
  /** How often the backlog is looked at while requests arrive. */
  probeMs: number;
  probe: () => Promise<Backlog>;
  /** Told when the probe starts failing (not again until it has worked once more). */
  onProbeError?: (err: unknown) => void;
  /** Told each time an accept is held back, for metrics. */
  onDelay?: () => void;
};

export type IntakeFlow = {
  /** Resolves when the request may be stored: at once, when the backlog is short enough, or after maxDelayMs. */
  admit(): Promise<void>;
  /** The last look at the backlog, for health. */
  state(): { congested: boolean; waiting: number; running: number; delayed: number } | 'off';
  close(): void;
};

export function createIntakeFlow(o: IntakeFlowOptions): IntakeFlow {
  const off = o.highWater <= 0 || o.maxDelayMs <= 0;
  let last: Backlog = { waiting: 0, running: 0 };
  let lastAt = -Infinity;
  let congested = false;
  let probing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delayed = 0;
  let closed = false;
  let failing = false;
  const waiters = new Set<() => void>();

  const releaseAll = () => {
    for (const w of [...waiters]) w();
  };

  function refresh(): Promise<void> {
    probing ??= o
      .probe()
      .then(
        (b) => {
          failing = false;
          last = b;
          // Holding requests back only helps when a worker is delivering: with none, the queue waits either way.
          congested = b.waiting > o.highWater && b.running > 0;
        },
        (err) => {
          // The probe is advice: without it, requests go ahead (the store reports a database that is away).
          congested = false;
          if (!failing) o.onProbeError?.(err);
          failing = true;
        },
      )
      .finally(() => {
        lastAt = performance.now();
        probing = undefined;
        if (!congested) releaseAll();
        schedule();
      });
    return probing;
  }

  // While requests wait, keep looking so they go as soon as the backlog is short enough.
  function schedule() {
    if (timer || closed || waiters.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void refresh();
    }, o.probeMs);
  }

  return {
    async admit() {
      if (off || closed) return;
      if (performance.now() - lastAt >= o.probeMs) void refresh(); // the answer serves the next requests
      if (!congested) return;
      delayed++;
      o.onDelay?.();
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, o.maxDelayMs);
        function done() {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
        schedule();
      });
    },
    state() {
      return off ? 'off' : { congested, waiting: last.waiting, running: last.running, delayed };
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      releaseAll();
    },
  };
}
