// resendMail: a new message from a stored one, same content, optionally to a corrected address (SPEC §6).
import type { AcceptDeps } from './accept.js';
import { NotFound } from './errors.js';
import { payloadHash } from './payload-hash.js';
import { dedupKeys } from './dedup-keys.js';
import { type IntakeContext, type SendAnswer, type SendRequestInput } from './send-request.js';
import { admittedClient } from './throttle.js';
import { checkIntakeContext } from './intake-bounds.js';
import { validateResendRequest } from './validate.js';

export async function resendMessage(deps: AcceptDeps, input: SendRequestInput, ctx: IntakeContext): Promise<SendAnswer> {
  checkIntakeContext(ctx);
  const client = await admittedClient(deps, input.clientHashKey, ctx);
  const req = validateResendRequest(input);
  const original = await deps.store.loadMessage(client.id, req.messageId);
  // Another client's message is "not found", exactly like a missing one: existence never leaks.
  if (!original) throw new NotFound(`message ${req.messageId} not found`);
  const params = req.params;
  const content = {
    ...original,
    requestId: req.requestId,
    userName: req.userName ?? original.userName,
    recipientEmailAddress: req.recipientEmailAddress?.trim() ?? original.recipientEmailAddress,
    relatedMessageId: req.messageId,
    params,
  };
  const fingerprint = payloadHash({
    op: 'resend',
    clientId: client.id,
    messageId: req.messageId,
    recipientEmailAddress: content.recipientEmailAddress,
    userName: req.userName,
    params: params.filter((p) => p.key !== 'IDEMPOTENCY_KEY'),
  });
  await deps.admit?.();
  const { messageId, duplicate } = await deps.store.storeMessage(
    { ...content, intake: ctx.intake, origin: ctx.origin, issuer: ctx.issuer, correlationId: ctx.correlationId },
    dedupKeys(params, ctx, { payloadHash: fingerprint, requestId: req.requestId, windowMs: deps.idempotencyWindowMs }),
  );
  if (!duplicate) deps.onStored?.(messageId);
  return { messageId, status: 0, params };
}
