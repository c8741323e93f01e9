// One error family for the core, carrying the SPEC §7 status code and every issue found.
export type StatusCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 9;
export type Issue = { code: StatusCode; field?: string; text: string };

export class SendError extends Error {
  constructor(readonly status: StatusCode, readonly issues: Issue[]) {
    super(issues[0]?.text ?? `status ${status}`);
  }
}
export class ValidationError extends SendError {
  constructor(issues: Issue[]) {
    // Mixed codes (e.g. a missing field and an oversized attachment) answer 1; one kind answers its own code.
    const codes = new Set(issues.map((i) => i.code));
    super(codes.size === 1 ? issues[0]!.code : 1, issues);
  }
}
export class AuthError extends SendError {
  constructor(text = 'unknown client or bad credentials', field = 'clientHashKey') {
    super(2, [{ code: 2, field, text }]);
  }
}
export class TemplateError extends SendError {
  constructor(text: string, field = 'messageType') {
    super(3, [{ code: 3, field, text }]);
  }
}
export class IdempotencyConflict extends SendError {
  constructor(text: string, field = 'IDEMPOTENCY_KEY') {
    super(4, [{ code: 4, field, text }]);
  }
}
// Issues that say a size or count limit was exceeded: REST answers those with 413 (SPEC §3).
const limitIssues = new WeakSet<Issue>();
export function limitIssue(issue: Issue): Issue {
  limitIssues.add(issue);
  return issue;
}
export const isLimitIssue = (issue: Issue) => limitIssues.has(issue);

export class AttachmentError extends SendError {
  readonly tooLarge: boolean;
  constructor(issues: Issue[], tooLarge = false) {
    super(5, issues);
    this.tooLarge = tooLarge || issues.some(isLimitIssue);
  }
}
export class NotFound extends SendError {
  constructor(text: string, field = 'messageId') {
    super(6, [{ code: 6, field, text }]);
  }
}
/** Code 7: the client's rate limit is used up for now (issue 15); the same request may be sent again after retryAfterMs. */
export class ThrottledError extends SendError {
  constructor(readonly retryAfterMs: number, perSecond: number) {
    super(7, [{ code: 7, field: 'clientHashKey', text: `throttled, retry later: this client may make ${perSecond} request(s) per second; retry after ${Math.ceil(retryAfterMs / 1000)} s` }]);
  }
}

/** The gateway holds as many request bodies as its memory budget allows: code 9, retry after `retryAfterS`. */
export class ServerBusy extends SendError {
  constructor(readonly retryAfterS: number) {
    super(9, [{ code: 9, text: `the gateway is busy, retry in ${retryAfterS} s` }]);
  }
}

/** Anything that is not a SendError becomes status 9 with a correlation id; no internal detail leaves. */
export function toSendError(err: unknown, correlationId: string): SendError {
  if (err instanceof SendError) return err;
  return new SendError(9, [{ code: 9, text: `internal error, safe to retry (correlation id ${correlationId})` }]);
}
