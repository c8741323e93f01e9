// JSON:API answers shared by the REST intake and the read APIs: errors with pointers, HTTP status per SPEC §7 code.
import type { SendError, StatusCode } from '../core/errors.js';

export const JSONAPI = 'application/vnd.api+json';

/** SPEC §3: the HTTP status of each SPEC §7 code. */
export function httpStatusOf(e: SendError): number {
  const byCode: Record<StatusCode, number> = { 0: 200, 1: 400, 2: 401, 3: 400, 4: 409, 5: 400, 6: 404, 9: 500 };
  if (e.status === 3 && (e as { unknownTemplate?: boolean }).unknownTemplate) return 404;
  if (e.status === 5 && (e as { tooLarge?: boolean }).tooLarge) return 413;
  return byCode[e.status];
}

/** `attachments[0].fileName` → `/data/attributes/attachments/0/fileName` */
export function pointerOf(field: string | undefined): string {
  if (!field) return '/data';
  return `/data/attributes/${field.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')}`;
}

export function errorDocument(e: SendError, meta: Record<string, unknown> = {}) {
  const status = String(httpStatusOf(e));
  return {
    errors: e.issues.map((i) => ({ status, code: String(i.code), title: i.text, source: { pointer: pointerOf(i.field) } })),
    meta: { total: null, params: [], responseStatus: { code: e.status, messages: e.issues }, ...meta },
  };
}
