// One error family for the core, carrying the SPEC §7 status code and every issue found.
export type StatusCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 9;
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
  constructor(text: string, field = 'messageType', readonly unknownTemplate = false) {
    super(3, [{ code: 3, field, text }]);
  }
}
export class IdempotencyConflict extends SendError {
  constructor(text: string, field = 'IDEMPOTENCY_KEY') {
    super(4, [{ code: 4, field, text }]);
  }
}
export class AttachmentError extends SendError {
  constructor(issues: Issue[], readonly tooLarge = false) {
    super(5, issues);
  }
}
export class NotFound extends SendError {
  constructor(text: string, field = 'messageId') {
    super(6, [{ code: 6, field, text }]);
  }
}

/** Anything that is not a SendError becomes status 9 with a correlation id; no internal detail leaves. */
export function toSendError(err: unknown, correlationId: string): SendError {
  if (err instanceof SendError) return err;
  return new SendError(9, [{ code: 9, text: `internal error, safe to retry (correlation id ${correlationId})` }]);
}
