// The HTTP status of each error (SPEC §3, §7), read from the error's kind and fields: one table for every HTTP answer.
import { AttachmentError, ServerBusy, UnknownTemplate, ValidationError, type Issue, type SendError, type StatusCode } from '../../core/errors.js';

/** SPEC §3: a body form an endpoint does not take is 415, not 400 (code 1 all the same). */
export class UnsupportedMediaType extends ValidationError {
  constructor(issue: Issue) {
    super([issue]);
  }
}

const BY_CODE: Record<StatusCode, number> = { 0: 200, 1: 400, 2: 401, 3: 400, 4: 409, 5: 400, 6: 404, 7: 429, 9: 500 };

export function httpStatusOf(e: SendError): number {
  if (e instanceof UnsupportedMediaType) return 415;
  if (e instanceof ServerBusy) return 503;
  // No such template is "not found"; a template that cannot compile or render the data is a bad request.
  if (e instanceof UnknownTemplate) return 404;
  if (e instanceof AttachmentError && e.tooLarge) return 413;
  return BY_CODE[e.status];
}
