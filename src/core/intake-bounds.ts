// Bounds of what an intake says around a request (X-Origin, X-Issuer, the caller's idempotency key): stored with the
// message, so bounded alike on every intake (issue 15), each named as the caller sent it.
import { headerIssue, ValidationError, type Issue } from './errors.js';
import { noNul, type IntakeContext } from './send-request.js';

/** Where a request came from is stored with it: bounded alike on every intake (issue 15), named as the caller sent it. */
export const CONTEXT_MAX = 255;

function contextIssue(field: string, v: string | undefined): Issue | undefined {
  if (v === undefined) return undefined;
  // X-Origin, X-Issuer and Idempotency-Key are headers on every wire; AMQP's message_id is a message property.
  const issue = (text: string): Issue => (field === 'message_id' ? { code: 1, field, text } : headerIssue(1, field, text));
  if (v.length > CONTEXT_MAX) return issue(`${field} must be at most ${CONTEXT_MAX} characters`);
  if (!noNul(v)) return issue(`${field} must not contain a NUL character`);
  return undefined;
}

export function checkIntakeContext(ctx: IntakeContext): void {
  const issues = [contextIssue('X-Origin', ctx.origin), contextIssue('X-Issuer', ctx.issuer)].filter((i): i is Issue => i !== undefined);
  if (issues.length) throw new ValidationError(issues);
}

/**
 * The caller's own idempotency key (REST Idempotency-Key, AMQP message_id), bounded as the caller sent it: a batch's
 * `#<index>` suffixes are the gateway's, so a key within the bound is within it for every item.
 */
export function callerKeyIssue(key: string | undefined, intake: IntakeContext['intake']): Issue | undefined {
  return contextIssue(intake === 'amqp' ? 'message_id' : 'Idempotency-Key', key);
}
