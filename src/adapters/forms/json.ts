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

/**
 * Where each part of a request sits in its JSON:API document, so an error can point at the attribute as
 * sent: `attachments[0]` -> `/included/2` when the attachment came through relationships/included.
 */
export type Locations = Record<string, string>;

/** One JSON:API resource object of a send request, with its relationships resolved from `included`. */
function resourceInput(data: Resource, included: Resource[], at: string, issues: Issue[], types: string[], where: Locations): SendRequestInput {
  if (!isObj(data)) {
    issues.push({ code: 1, field: at, text: `${at} must be a resource object` });
    return {};
  }
  if (typeof data.type !== 'string' || !types.includes(data.type)) {
    issues.push({ code: 1, field: `${at}/type`, text: `${at}/type must be ${types.join(' or ')}` });
  }
  /** The included resources a relationship names, each with its index in `included`. */
  const find = (rel: unknown, type: string, pointer: string): { r: Obj; k: number }[] => {
    if (rel === undefined || rel === null) return [];
    const refs = isObj(rel) ? rel.data : undefined;
    if (!Array.isArray(refs)) {
      issues.push({ code: 1, field: `${pointer}/data`, text: `${pointer}/data must be an array of resource identifiers` });
      return [];
    }
    return refs.flatMap((ref, i) => {
      const k = isObj(ref) ? included.findIndex((r) => isObj(r) && r.type === (ref.type ?? type) && String(r.id) === String(ref.id)) : -1;
      if (k < 0) {
        issues.push({ code: 1, field: `${pointer}/data/${i}`, text: `${pointer}/data/${i} points to no resource in included` });
        return [];
      }
      return [{ r: included[k] as Obj, k }];
    });
  };
  const attrs = isObj(data.attributes) ? clean(data.attributes) : {};
  const rels = isObj(data.relationships) ? data.relationships : {};
  const propsOf = (r: Obj) => (isObj(r.attributes) ? clean(r.attributes) : {});
  const attachments = find(rels.attachments, 'attachments', `${at}/relationships/attachments`).map(({ r: a, k }, i) => {
    where[`attachments[${i}]`] = `/included/${k}`;
    const arels = isObj(a.relationships) ? a.relationships : {};
    const props = find(arels.properties, 'properties', `/included/${k}/relationships/properties`).map(({ r, k: pk }, j) => {
      where[`attachments[${i}].properties[${j}]`] = `/included/${pk}`;
      return propsOf(r);
    });
    return { ...(isObj(a.attributes) ? clean(a.attributes) : {}), properties: props };
  });
  const properties = find(rels.properties, 'properties', `${at}/relationships/properties`).map(({ r, k }, j) => {
    where[`properties[${j}]`] = `/included/${k}`;
    return propsOf(r);
  });
  return {
    ...attrs,
    ...(attachments.length || attrs.attachments === undefined ? { attachments } : {}),
    ...(properties.length || attrs.properties === undefined ? { properties } : {}),
    params: cleanList(attrs.params),
  };
}

/**
 * A JSON:API document: `data` an object (one request) or an array (a batch, answered item by item).
 * `types`: the resource types this operation takes (send: sendRequest/sendRequests).
 */
export function sendInputsFromJsonApi(
  doc: unknown,
  types: string[] = SEND_TYPES,
): { batch: boolean; items: SendRequestInput[]; ids: (string | undefined)[]; locations: Locations[] } {
  if (!isObj(doc) || doc.data === undefined) {
    throw new ValidationError([{ code: 1, field: '/data', text: 'a JSON:API document needs a top-level data member' }]);
  }
  const included = Array.isArray(doc.included) ? (doc.included as Resource[]) : [];
  const issues: Issue[] = [];
  const batch = Array.isArray(doc.data);
  const list = batch ? (doc.data as Resource[]) : [doc.data as Resource];
  if (batch && list.length === 0) issues.push({ code: 1, field: '/data', text: '/data must hold at least one send request' });
  const locations = list.map((): Locations => ({}));
  const items = list.map((d, i) => resourceInput(d, included, batch ? `/data/${i}` : '/data', issues, types, locations[i]!));
  if (issues.length) throw new ValidationError(issues);
  return { batch, items, ids: list.map((d) => (isObj(d) && d.id !== undefined ? String(d.id) : undefined)), locations };
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

/**
 * `attachments[0].fileName` → `/data/attributes/attachments/0/fileName`; with `at` (where the request's
 * parts sat in its document) → `/included/2/attributes/fileName`. A field given as a pointer stays one.
 */
export function pointerOf(field: string | undefined, base = '/data', at: Locations = {}): string {
  if (!field) return base;
  if (field.startsWith('/')) return field;
  const prefix = Object.keys(at)
    .filter((p) => field === p || field.startsWith(`${p}.`))
    .sort((a, b) => b.length - a.length)[0];
  const attr = (f: string) => f.replace(/\[(\d+)\]/g, '.$1').split('.').join('/');
  if (prefix === undefined) return `${base}/attributes/${attr(field)}`;
  return field === prefix ? at[prefix]! : `${at[prefix]}/attributes/${attr(field.slice(prefix.length + 1))}`;
}

/** Issues about a header (the token, the traceability headers) name it with JSON:API's `source.header`. */
const isHeaderField = (field: string | undefined) => !!field && /^(?:Authorization|Content-Type|Idempotency-Key|X-[A-Za-z-]+)$/.test(field);

export function jsonApiErrors(e: SendError, httpStatus: number, base = '/data', at: Locations = {}) {
  return e.issues.map((i) => ({
    status: String(httpStatus),
    code: String(i.code),
    title: i.text,
    source: isHeaderField(i.field) ? { header: i.field! } : { pointer: pointerOf(i.field, base, at) },
  }));
}

export function jsonApiAnswer(a: Answer, httpStatus: number, params: Param[] = [], at: Locations = {}) {
  const meta = { total: null, params: paramsOf(a, params), responseStatus: statusOf(a) };
  if (!a.ok) return { errors: jsonApiErrors(a.error, httpStatus, '/data', at), meta };
  return { data: { type: 'sendResponse', id: a.answer.messageId !== undefined ? String(a.answer.messageId) : null, attributes: {} }, meta };
}

/**
 * A JSON:API batch answer: `data` aligned with the request items, each with its own responseStatus;
 * refused items are also listed in `errors`, their pointers under `/data/<i>`.
 */
export function jsonApiBatchAnswer(answers: Answer[], ids: (string | undefined)[], httpStatusOf: (e: SendError) => number, at: Locations[] = []) {
  const errorsOf = (a: Extract<Answer, { ok: false }>, i: number) => jsonApiErrors(a.error, httpStatusOf(a.error), `/data/${i}`, at[i]);
  const refused = answers.flatMap((a, i) => (a.ok ? [] : [{ a, i }]));
  const meta = {
    total: answers.length,
    params: [],
    responseStatus: refused.length ? { code: refused[0]!.a.error.status, messages: refused.flatMap(({ a }) => a.error.issues) } : { code: 0, messages: [] },
  };
  // JSON:API allows `data` or `errors`, never both: with anything accepted, each refused item carries its
  // own error objects in its meta; with nothing accepted, the answer is the errors alone.
  if (refused.length === answers.length) return { errors: refused.flatMap(({ a, i }) => errorsOf(a, i)), meta };
  const data = answers.map((a, i) =>
    a.ok
      ? { type: 'sendResponse', id: String(a.answer.messageId), attributes: {}, meta: { responseStatus: statusOf(a), params: a.answer.params } }
      : { type: 'sendResponse', id: ids[i] ?? `item-${i}`, attributes: {}, meta: { responseStatus: statusOf(a), errors: errorsOf(a, i) } },
  );
  return { data, meta };
}
