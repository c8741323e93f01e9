// The plain JSON body form (SPEC §3, the queue sample's form): a flat object with the fields of SPEC §1, and its answer.
import { ValidationError, statusMessage } from '../../core/errors.js';
import type { Answer } from '../../core/requests.js';
import type { Param, SendRequestInput } from '../../core/send-request.js';
import { isObj, type Obj } from './xml-request.js';

/** send or resend: the operation a request body is read for. */
export type RequestKind = 'send' | 'resend';

/**
 * Where each part of a request sits in its JSON:API document, so an error can point at the attribute as
 * sent: `attachments[0]` -> `/included/2` when the attachment came through relationships/included.
 */
export type Locations = Record<string, string>;
/** The requests one body carries: several only for a JSON:API batch; `ids` and `locations` only JSON:API has. */
export type RequestDocument = { batch: boolean; items: SendRequestInput[]; ids: (string | undefined)[]; locations: Locations[] };

/** JSON null means "not given"; the Hammy REST page calls the recipient `recipientAddress`. */
export function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  if (out.recipientAddress !== undefined && out.recipientEmailAddress === undefined) out.recipientEmailAddress = out.recipientAddress;
  delete out.recipientAddress;
  return out;
}
export const cleanList = (v: unknown) => (Array.isArray(v) ? v.map((x) => (isObj(x) ? clean(x) : x)) : v);

/** One flat JSON object, for send and resend alike; `field` names the body in the answer when it is no object. */
export function inputFromPlainJson(body: unknown, field = '/'): SendRequestInput {
  if (!isObj(body)) throw new ValidationError([{ code: 1, field, text: 'the body must be a JSON object' }]);
  const o = clean(body);
  const attachments = Array.isArray(o.attachments) ? o.attachments.map((a) => (isObj(a) ? { ...clean(a), properties: cleanList(a.properties) } : a)) : o.attachments;
  return { ...o, attachments, properties: cleanList(o.properties), params: cleanList(o.params) };
}

export function readPlainJson(body: unknown, field = '/'): RequestDocument {
  return { batch: false, items: [inputFromPlainJson(body, field)], ids: [undefined], locations: [{}] };
}

/** responseStatus of SPEC §3: code 0, or the error's code with every issue as SPEC §7 lists it. */
export const responseStatus = (a: Answer) => (a.ok ? { code: 0, messages: [] } : { code: a.error.status, messages: a.error.issues.map(statusMessage) });
export const paramsOf = (a: Answer, fallback: Param[] = []) => (a.ok ? a.answer.params : fallback);

export function plainJsonAnswer(a: Answer) {
  return {
    meta: { responseStatus: responseStatus(a), params: paramsOf(a) },
    ...(a.ok && a.answer.messageId !== undefined ? { messageId: a.answer.messageId } : {}),
  };
}
