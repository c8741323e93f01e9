// The keys that make a retry safe (SPEC §6), from the request's params and its intake: one rule for send and resend.
import type { DedupKeys } from './ports.js';
import { paramValue, type IntakeContext, type Param } from './send-request.js';

/** The strict key is the IDEMPOTENCY_KEY param, else the intake's (REST header, AMQP message_id). */
export const idempotencyKeyOf = (params: Param[], ctx: IntakeContext) => paramValue(params, 'IDEMPOTENCY_KEY') ?? ctx.idempotencyKey;

export function dedupKeys(params: Param[], ctx: IntakeContext, o: { payloadHash: string; requestId?: string; windowMs: number }): DedupKeys {
  const idempotencyKey = idempotencyKeyOf(params, ctx);
  // A strict key says all there is to say; the delivery key is for messages that came without one.
  return { ...o, idempotencyKey, delivery: idempotencyKey === undefined ? ctx.delivery : undefined };
}
