// The RateLimits port over rate-limiter-flexible's memory store: counts are kept per gateway process (README).
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimits } from '../core/ports.js';

/** One limiter per distinct limit (a window of one second): a limit changed through the admin API applies to the next request. */
export function createRateLimits(): RateLimits {
  const byLimit = new Map<number, RateLimiterMemory>();
  return {
    async take(clientId, perSecond) {
      let limiter = byLimit.get(perSecond);
      if (!limiter) byLimit.set(perSecond, (limiter = new RateLimiterMemory({ points: perSecond, duration: 1 })));
      try {
        await limiter.consume(clientId);
        return 0;
      } catch (e) {
        if (e instanceof RateLimiterRes) return Math.max(1, e.msBeforeNext);
        throw e;
      }
    },
  };
}
