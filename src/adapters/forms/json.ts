// The JSON body forms of SPEC §3 (plain JSON and JSON:API) -> SendRequest input, and their answer shapes.
import { SendError, ValidationError, type Issue } from '../../core/errors.js';
import type { Param, SendAnswer, SendRequestInput } from '../../core/send-request.js';
import { isObj, type Obj } from './xml-request.js';

/** JSON null means "not given"; the Hammy REST page calls the recipient `recipientAddress`. */
function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  if (out.recipientAddress !== undefined && out.recipientEmailAddress === undefined) out.recipientEmailAddress = out.recipientAddress;
  delete out.recipientAddress;
  return out;
}
const cleanList = (v: unknown) => (Array.isArray(v) ? v.map((x) => (isObj(x) ? clean(x) : x)) : v);

/** A flat JSON object with the fields of SPEC §1 (the queue sample's form). */
export function sendInputFromJson(body: unknown): SendRequestInput {
  if (!isObj(body)) throw new ValidationError([{ code: 1, field: '/', text: 'the body must be a JSON object' }]);
  const o = clean(body);
  const attachments = Array.isArray(o.attachments) ? o.attachments.map((a) => (isObj(a) ? { ...clean(a), properties: cleanList(a.properties) } : a)) : o.attachments;
  return { ...o, attachments, properties: cleanList(o.properties), params: cleanList(o.params) };
}

export const SEND_TYPES = ['sendRequest', 'sendRequests'];

type Resource = { type?: unknown; id?: unknown; attributes?: unknown; relationships?: unknown };

/** One JSON:API resource object of a send request, with its relationships resolved from `included`. */
function resourceInput(data: Resource, included: Resource[], at: string, issues: Issue[]): SendRequestInput {
  if (!isObj(data)) {
    issues.push({ code: 1, field: at, text: `${at} must be a resource object` });
    return {};
  }
  if (typeof data.type !== 'string' || !SEND_TYPES.includes(data.type)) {
    issues.push({ code: 1, field: `${at}/type`, text: `${at}/type must be sendRequest or sendRequests` });
  }
  const find = (rel: unknown, type: string, pointer: string): Obj[] => {
    if (rel === undefined || rel === null) return [];
    const refs = isObj(rel) ? rel.data : undefined;
    if (!Array.isArray(refs)) {
      issues.push({ code: 1, field: `${pointer}/data`, text: `${pointer}/data must be an array of resource identifiers` });
      return [];
    }
    return refs.flatMap((ref, i) => {
      const hit = isObj(ref) ? included.find((r) => isObj(r) && r.type === (ref.type ?? type) && String(r.id) === String(ref.id)) : undefined;
      if (!hit) {
        issues.push({ code: 1, field: `${pointer}/data/${i}`, text: `${pointer}/data/${i} points to no resource in included` });
        return [];
      }
      return [hit as Obj];
    });
  };
  const attrs = isObj(data.attributes) ? clean(data.attributes) : {};
  const rels = isObj(data.relationships) ? data.relationships : {};
  const propsOf = (r: Obj) => (isObj(r.attributes) ? clean(r.attributes) : {});
  const attachments = find(rels.attachments, 'attachments', `${at}/relationships/attachments`).map((a, i) => {
    const arels = isObj(a.relationships) ? a.relationships : {};
    const props = find(arels.properties, 'properties', `/included/attachments/${i}/relationships/properties`).map(propsOf);
    return { ...(isObj(a.attributes) ? clean(a.attributes) : {}), properties: props };
  });
  const properties = find(rels.properties, 'properties', `${at}/relationships/properties`).map(propsOf);
  return {
    ...attrs,
    ...(attachments.length || attrs.attachments === undefined ? { attachments } : {}),
    ...(properties.length || attrs.properties === undefined ? { properties } : {}),
    params: cleanList(attrs.params),
  };
}

/** A JSON:API document: `data` an object (one request) or an array (a batch, answered item by item). */
export function sendInputsFromJsonApi(doc: unknown): { batch: boolean; items: SendRequestInput[]; ids: (string | undefined)[] } {
  if (!isObj(doc) || doc.data === undefined) {
    throw new ValidationError([{ code: 1, field: '/data', text: 'a JSON:API document needs a top-level data member' }]);
  }
  const included = Array.isArray(doc.included) ? (doc.included as Resource[]) : [];
  const issues: Issue[] = [];
  const batch = Array.isArray(doc.data);
  const list = batch ? (doc.data as Resource[]) : [doc.data as Resource];
  if (batch && list.length === 0) issues.push({ code: 1, field: '/data', text: '/data must hold at least one send request' });
  const items = list.map((d, i) => resourceInput(d, included, batch ? `/data/${i}` : '/data', issues));
  if (issues.length) throw new ValidationError(issues);
  return { batch, items, ids: list.map((d) => (isObj(d) && d.id !== undefined ? String(d.id) : undefined)) };
}

/** The answers of SPEC §3 (also the AMQP answers for JSON bodies, SPEC §8). */
export type Answer = { ok: true; answer: SendAnswer } | { ok: false; error: SendError };

const statusOf = (a: Answer) => (a.ok ? { code: 0, messages: [] } : { code: a.error.status, messages: a.error.issues });
const paramsOf = (a: Answer, fallback: Param[]) => (a.ok ? a.answer.params : fallback);

export function plainJsonAnswer(a: Answer, params: Param[] = []) {
  return {
    meta: { responseStatus: statusOf(a), params: paramsOf(a, params) },
    ...(a.ok && a.answer.messageId !== undefined ? { messageId: a.answer.messageId } : {}),
  };
}

/** `attachments[0].fileName` → `/data/attributes/attachments/0/fileName`; a field given as a pointer stays one. */
export function pointerOf(field: string | undefined, base = '/data'): string {
  if (!field) return base;
  if (field.startsWith('/')) return field;
  return `${base}/attributes/${field.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')}`;
}

export function jsonApiErrors(e: SendError, httpStatus: number, base = '/data') {
  return e.issues.map((i) => ({ status: String(httpStatus), code: String(i.code), title: i.text, source: { pointer: pointerOf(i.field, base) } }));
}

export function jsonApiAnswer(a: Answer, httpStatus: number, params: Param[] = []) {
  const meta = { total: null, params: paramsOf(a, params), responseStatus: statusOf(a) };
  if (!a.ok) return { errors: jsonApiErrors(a.error, httpStatus), meta };
  return { data: { type: 'sendResponse', id: a.answer.messageId !== undefined ? String(a.answer.messageId) : null, attributes: {} }, meta };
}

/**
 * A JSON:API batch answer: `data` aligned with the request items, each with its own responseStatus;
 * refused items are also listed in `errors`, their pointers under `/data/<i>`.
 */
export function jsonApiBatchAnswer(answers: Answer[], ids: (string | undefined)[], httpStatusOf: (e: SendError) => number) {
  const data = answers.map((a, i) =>
    a.ok
      ? { type: 'sendResponse', id: String(a.answer.messageId), attributes: {}, meta: { responseStatus: statusOf(a), params: a.answer.params } }
      : { type: 'sendResponse', id: ids[i] ?? `item-${i}`, attributes: {}, meta: { responseStatus: statusOf(a) } },
  );
  const errors = answers.flatMap((a, i) => (a.ok ? [] : jsonApiErrors(a.error, httpStatusOf(a.error), `/data/${i}`)));
  const refused = answers.filter((a): a is Extract<Answer, { ok: false }> => !a.ok);
  return {
    data,
    ...(errors.length ? { errors } : {}),
    meta: {
      total: answers.length,
      params: [],
      responseStatus: refused.length ? { code: refused[0]!.error.status, messages: refused.flatMap((r) => r.error.issues) } : { code: 0, messages: [] },
    },
  };
}
