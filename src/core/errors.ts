// One error family for the core (STYLE §4): the SPEC §7 status code and every issue found, each saying where it
// points and which limit it went over, so each wire's mapper reads what it needs instead of guessing.
export type StatusCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 9;
/** Where an issue points: a request field (SPEC §1 names or a JSON pointer), a header, a query parameter, a multipart part. */
export type IssueSource = { field: string } | { header: string } | { parameter: string } | { part: string };
export type Issue = {
  code: StatusCode;
  /** The name SPEC §7 answers carry (SOAP `field`, responseStatus.messages). */
  field?: string;
  text: string;
  /** Where `field` is when it is not a request field; see sourceOf. */
  source?: IssueSource;
  /** The limit (bytes or a count) the request went over: REST answers such code-5 issues with 413. */
  limit?: number;
};

/** An issue's place: its explicit source, else the request field it names. */
export function sourceOf(issue: Issue): IssueSource | undefined {
  return issue.source ?? (issue.field === undefined ? undefined : { field: issue.field });
}
export const headerIssue = (code: StatusCode, header: string, text: string): Issue => ({ code, field: header, text, source: { header } });
export const parameterIssue = (parameter: string, text: string): Issue => ({ code: 1, field: parameter, text, source: { parameter } });
/** The issue as the SPEC §7 answers list it: code, field, text (no wire-specific place). */
export const statusMessage = (i: Issue) => ({ code: i.code, field: i.field, text: i.text });

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
/** Code 2; `header` when the credential came in a header (X-Client-Hash-Key, Authorization), else the clientHashKey field. */
export class AuthError extends SendError {
  constructor(text = 'unknown client or bad credentials', header?: string) {
    super(2, [header ? headerIssue(2, header, text) : { code: 2, field: 'clientHashKey', text }]);
  }
}
/** Code 3: a template that cannot compile or render the request's data (HTTP 400). */
export class TemplateError extends SendError {
  constructor(text: string, field: string) {
    super(3, [{ code: 3, field, text }]);
  }
}
/** Code 3 as "not found" (HTTP 404): no such messageType (or version) for the client. */
export class UnknownTemplate extends SendError {
  constructor(issues: Issue[]) {
    super(3, issues);
  }
}
export const unknownTemplateIssue = (which: string): Issue => ({ code: 3, field: 'messageType', text: `unknown messageType ${which}` });
/** Code 4; `header` when the key came in a header (REST Idempotency-Key), else the IDEMPOTENCY_KEY param. */
export class IdempotencyConflict extends SendError {
  constructor(text: string, header?: string) {
    super(4, [header ? headerIssue(4, header, text) : { code: 4, field: 'IDEMPOTENCY_KEY', text }]);
  }
}
export class AttachmentError extends SendError {
  constructor(issues: Issue[]) {
    super(5, issues);
  }
  /** Some issue went over a size or count limit (SPEC §3: 413). */
  get tooLarge(): boolean {
    return this.issues.some((i) => i.limit !== undefined);
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
