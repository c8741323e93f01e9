// JSON:API answers shared by the REST intake and the read APIs: errors with pointers, HTTP status per SPEC §7 code.
import { AttachmentError, ServerBusy, ValidationError, type Issue, type SendError, type StatusCode } from '../core/errors.js';
import { jsonApiErrors } from '../adapters/forms/json.js';

export const JSONAPI = 'application/vnd.api+json';

/** SPEC §3: a body form an endpoint does not take is 415, not 400 (code 1 all the same). */
export class UnsupportedMediaType extends ValidationError {
  readonly httpStatus = 415;
  constructor(issue: Issue) {
    super([issue]);
  }
}

/** SPEC §3: the HTTP status of each SPEC §7 code. */
export function httpStatusOf(e: SendError): number {
  if (e instanceof UnsupportedMediaType) return e.httpStatus;
  if (e instanceof ServerBusy) return 503;
  const byCode: Record<StatusCode, number> = { 0: 200, 1: 400, 2: 401, 3: 400, 4: 409, 5: 400, 6: 404, 7: 429, 9: 500 };
  // An unknown messageType is "not found"; a template that cannot render the data is a bad request.
  if (e.status === 3 && e.issues.every((i) => i.field === 'messageType')) return 404;
  if (e.status === 5 && e instanceof AttachmentError && e.tooLarge) return 413;
  return byCode[e.status];
}

// Issues about a query parameter: JSON:API names those with `source.parameter`, not a body pointer.
const parameterIssues = new WeakSet<Issue>();
export function parameterIssue(field: string, text: string): Issue {
  const issue: Issue = { code: 1, field, text };
  parameterIssues.add(issue);
  return issue;
}

export function errorDocument(e: SendError, meta: Record<string, unknown> = {}) {
  const status = httpStatusOf(e);
  const errors = jsonApiErrors(e, Number(status)).map((err, i) => {
    const issue = e.issues[i]!;
    return parameterIssues.has(issue) ? { ...err, source: { parameter: issue.field } } : err;
  });
  return {
    errors,
    meta: { total: null, params: [], responseStatus: { code: e.status, messages: e.issues }, ...meta },
  };
}
