// Deadlines for outbound work (issue 16): a call that passes its deadline rejects with a DeadlineError, so the
// delivery is retried like an SMTP 4xx instead of hanging while its lease is renewed.
import type { Outcome } from './delivery.js';

export class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} took longer than ${ms} ms`);
  }
}

/**
 * Resolves or rejects as `work` does, or rejects with a DeadlineError after `ms`. The work itself is not stopped
 * (a file write or a PDF in the making cannot be); its result, if it comes later, is dropped. Work that kept the
 * event loop busy past the deadline (a PDF laid out in one synchronous run) is late too, though its timer could not fire.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  work.catch(() => undefined); // a failure after the deadline is nobody's to handle
  const inTime = work.then((v) => (performance.now() - started > ms ? Promise.reject(new DeadlineError(what, ms)) : v));
  return Promise.race([inTime, late]).finally(() => clearTimeout(timer));
}

/** A step past its deadline is retried like an SMTP 4xx (issue 16 point 3): its outcome, or undefined for any other error. */
export function lateOutcome(e: unknown): Outcome | undefined {
  return e instanceof DeadlineError ? { kind: 'retry', reason: `timeout: ${e.message}` } : undefined;
}
