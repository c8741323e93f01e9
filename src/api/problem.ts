// RFC 9457 problem details (application/problem+json): the one error shape of every HTTP API but the send API,
// as the Sundsvall seed's `Problem`; `code` (SPEC §7) and `issues` (each with its source) are its extensions.
import { STATUS_CODES } from 'node:http';
import { ServerBusy, sourceOf, type SendError, type StatusCode } from '../core/errors.js';
import { httpStatusOf } from '../adapters/forms/http-status.js';

export const PROBLEM_JSON = 'application/problem+json';

type Answering = { status: number; type: string; body: unknown; set(field: string, value: string): void };

export function problemOf(status: number, code: StatusCode, detail: string, e?: SendError) {
  return {
    // RFC 9457 §4.2.1: about:blank says the HTTP status is all the type there is; `title` is then its phrase.
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    issues: (e?.issues ?? []).map((i) => {
      const source = sourceOf(i);
      return { code: i.code, text: i.text, ...(source ? { source } : {}) };
    }),
  };
}

/** A refusal as a problem: its status from its kind (the send API's own table), every issue listed. */
export function answerProblem(ctx: Answering, e: SendError) {
  const status = httpStatusOf(e);
  ctx.status = status;
  ctx.type = PROBLEM_JSON;
  ctx.body = problemOf(status, e.status, e.issues.map((i) => i.text).join('; ') || e.message, e);
  if (e instanceof ServerBusy) ctx.set('Retry-After', String(e.retryAfterS));
}

/** A status no SendError stands for (no route, a method the route does not take): the same shape, no issues. */
export function answerStatusProblem(ctx: Answering, status: number, code: StatusCode, detail: string) {
  ctx.status = status;
  ctx.type = PROBLEM_JSON;
  ctx.body = problemOf(status, code, detail);
}
