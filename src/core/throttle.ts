// The client of a send or resend, authenticated and then counted against its rate limit (issue 15, SPEC §7 code 7).
import { clientOf } from './auth.js';
import { ThrottledError } from './errors.js';
import type { ClientRecord, RateLimits, SendStore } from './ports.js';
import type { IntakeContext } from './send-request.js';

/** Counted after authentication: an unknown key costs a real client nothing, and a refused key is code 2, not 7. */
export async function admittedClient(deps: { store: SendStore; rateLimits?: RateLimits }, hashKey: unknown, ctx: IntakeContext): Promise<ClientRecord> {
  const client = await clientOf(deps.store, hashKey, ctx);
  const perSecond = client.rateLimitPerSecond;
  if (perSecond !== null && deps.rateLimits) {
    const waitMs = await deps.rateLimits.take(client.id, perSecond);
    if (waitMs > 0) throw new ThrottledError(waitMs, perSecond);
  }
  return client;
}
