// acceptRequests: the one operation every intake calls (STYLE §8). The items of one request, the caller's defaults
// from around the body and the base of the idempotency keys -> one answer per item, ok or a SendError; one item's
// refusal never stops the others (README "Batch"). The intakes only translate their wire to this and back.
import { IdempotencyConflict, SendError, toSendError, ValidationError } from './errors.js';
import { callerKeyIssue } from './intake-bounds.js';
import type { IntakeContext, SendAnswer, SendRequestInput } from './send-request.js';

export type Answer = { ok: true; answer: SendAnswer } | { ok: false; error: SendError };
/** send (acceptSendRequest) or resend (resendMessage), as the intake was asked. */
export type Operation = (input: SendRequestInput, ctx: IntakeContext) => Promise<SendAnswer>;

/** Who sends, as the wire around the body says (headers, properties); an item's own fields come first. */
export type Caller = {
  intake: IntakeContext['intake'];
  correlationId: string;
  clientHashKey?: string;
  userName?: string;
  origin?: string;
  issuer?: string;
  authorization?: string;
};

/**
 * What each item's key is made of (SPEC §6, §8). `idempotencyKey`: the caller's own key (REST Idempotency-Key,
 * AMQP message_id), `header` naming it when a conflict is answered; `delivery`: a key made from the message itself
 * (AMQP without message_id), found again on a redelivery. A batch keys each item as `<base>#<index>`, so a retried
 * batch finds every stored item again.
 */
export type KeyBase = { idempotencyKey?: string; header?: string } | { delivery: string; redelivered: boolean };

/** The items of one request; an item already refused by its wire (e.g. a missing multipart part) is its error. */
export type RequestItems = { batch: boolean; items: (SendRequestInput | SendError)[] };

export type AcceptOptions = {
  /** Code 9 is thrown, not answered: the intake tries the whole request again later (AMQP). */
  throwInternal?: boolean;
  /** Told of each internal error with its item's index: its detail is logged, the answer carries none. */
  onInternal?: (err: unknown, item: number) => void;
};

function contextOf(caller: Caller, key: KeyBase, suffix: string): IntakeContext {
  const { intake, correlationId, origin, issuer, authorization } = caller;
  const keyed =
    'delivery' in key
      ? { delivery: { key: `${key.delivery}${suffix}`, redelivered: key.redelivered } }
      : { idempotencyKey: key.idempotencyKey && `${key.idempotencyKey}${suffix}` };
  return { intake, correlationId, origin, issuer, authorization, ...keyed };
}

/** A conflict over the caller's key in a header (not the IDEMPOTENCY_KEY param) names that header. */
function namedByHeader(e: SendError, input: SendRequestInput, key: KeyBase): SendError {
  if (!(e instanceof IdempotencyConflict) || 'delivery' in key || !key.header || !key.idempotencyKey) return e;
  const params: unknown[] = Array.isArray(input.params) ? input.params : [];
  if (params.some((p) => typeof p === 'object' && p !== null && (p as { key?: unknown }).key === 'IDEMPOTENCY_KEY')) return e;
  return new IdempotencyConflict(e.issues[0]!.text.replace(/^IDEMPOTENCY_KEY/, key.header), key.header);
}

export async function acceptRequests(run: Operation, request: RequestItems, caller: Caller, key: KeyBase, o: AcceptOptions = {}): Promise<Answer[]> {
  const keyIssue = 'delivery' in key ? undefined : callerKeyIssue(key.idempotencyKey, caller.intake);
  if (keyIssue) return request.items.map(() => ({ ok: false, error: new ValidationError([keyIssue]) }));
  const answers: Answer[] = [];
  for (const [i, item] of request.items.entries()) {
    if (item instanceof SendError) {
      answers.push({ ok: false, error: item });
      continue;
    }
    const ctx = contextOf(caller, key, request.batch ? `#${i}` : '');
    const input = { ...item, clientHashKey: item.clientHashKey ?? caller.clientHashKey, userName: item.userName ?? caller.userName };
    try {
      answers.push({ ok: true, answer: await run(input, ctx) });
    } catch (e) {
      const error = toSendError(e, ctx.correlationId);
      if (error.status === 9) {
        if (o.throwInternal) throw e;
        o.onInternal?.(e, i);
      }
      answers.push({ ok: false, error: namedByHeader(error, input, key) });
    }
  }
  return answers;
}
