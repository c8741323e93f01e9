// The JSON:API body form (SPEC §3): send/resend resource documents -> SendRequest input (REST and AMQP alike),
// one resource's attributes for the management APIs, and the answers with their error objects.
import { ValidationError, sourceOf, type Issue, type SendError } from '../../core/errors.js';
import type { Answer } from '../../core/requests.js';
import type { Param, SendRequestInput } from '../../core/send-request.js';
import { httpStatusOf } from './http-status.js';
import { clean, cleanList, paramsOf, responseStatus, type Locations, type RequestDocument, type RequestKind } from './plain-json.js';
import { isObj, type Obj } from './xml-request.js';

export const JSONAPI = 'application/vnd.api+json';
/** The resource types each operation takes. */
export const RESOURCE_TYPES: Record<RequestKind, string[]> = { send: ['sendRequest', 'sendRequests'], resend: ['resendRequest', 'resendRequests'] };

type Resource = { type?: unknown; id?: unknown; attributes?: unknown; relationships?: unknown };

/** A resource object of one of `types`, or an issue at `at` saying what is wrong with it. */
function checkResource(data: unknown, at: string, types: string[], issues: Issue[]): data is Resource & Obj {
  if (!isObj(data)) {
    issues.push({ code: 1, field: at, text: `${at} must be a resource object` });
    return false;
  }
  if (typeof data.type !== 'string' || !types.includes(data.type)) {
    issues.push({ code: 1, field: `${at}/type`, text: `${at}/type must be ${types.join(' or ')}` });
  }
  return true;
}

/**
 * The attributes of the one resource a management request carries (admin, templates), kept as sent: there a null
 * is a value ("no default name"). A plain JSON object without `data` is the attributes themselves.
 */
export function resourceAttributes(body: unknown, types: string[], jsonApi: boolean): Obj {
  if (!isObj(body)) throw new ValidationError([{ code: 1, field: '/', text: 'the body must be a JSON object' }]);
  if (!jsonApi && !('data' in body)) return body;
  const issues: Issue[] = [];
  if (checkResource(body.data, '/data', types, issues) && body.data.attributes !== undefined && !isObj(body.data.attributes)) {
    issues.push({ code: 1, field: '/data/attributes', text: '/data/attributes must be an object' });
  }
  if (issues.length) throw new ValidationError(issues);
  return ((body.data as Resource).attributes as Obj | undefined) ?? {};
}

/** One send/resend resource object, with its relationships resolved from `included`. */
function resourceInput(data: unknown, included: Resource[], at: string, issues: Issue[], types: string[], where: Locations): SendRequestInput {
  if (!checkResource(data, at, types, issues)) return {};
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

/** A JSON:API document: `data` an object (one request) or an array (a batch, answered item by item). */
export function readJsonApi(doc: unknown, kind: RequestKind): RequestDocument {
  if (!isObj(doc) || doc.data === undefined) {
    throw new ValidationError([{ code: 1, field: '/data', text: 'a JSON:API document needs a top-level data member' }]);
  }
  const types = RESOURCE_TYPES[kind];
  const included = Array.isArray(doc.included) ? (doc.included as Resource[]) : [];
  const issues: Issue[] = [];
  const batch = Array.isArray(doc.data);
  const list: unknown[] = batch ? (doc.data as unknown[]) : [doc.data];
  if (batch && list.length === 0) issues.push({ code: 1, field: '/data', text: '/data must hold at least one send request' });
  const locations = list.map((): Locations => ({}));
  const items = list.map((d, i) => resourceInput(d, included, batch ? `/data/${i}` : '/data', issues, types, locations[i]!));
  if (issues.length) throw new ValidationError(issues);
  return { batch, items, ids: list.map((d) => (isObj(d) && d.id !== undefined ? String(d.id) : undefined)), locations };
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

/** JSON:API's `source` of an issue: its header or query parameter by name, a field or part by its pointer. */
function jsonApiSource(i: Issue, base: string, at: Locations) {
  const s = sourceOf(i);
  if (s && 'header' in s) return { header: s.header };
  if (s && 'parameter' in s) return { parameter: s.parameter };
  return { pointer: pointerOf(i.field, base, at) };
}

export function jsonApiErrors(e: SendError, httpStatus: number, base = '/data', at: Locations = {}) {
  return e.issues.map((i) => ({ status: String(httpStatus), code: String(i.code), title: i.text, source: jsonApiSource(i, base, at) }));
}

export function jsonApiAnswer(a: Answer, at: Locations = {}, params: Param[] = []) {
  const meta = { total: null, params: paramsOf(a, params), responseStatus: responseStatus(a) };
  if (!a.ok) return { errors: jsonApiErrors(a.error, httpStatusOf(a.error), '/data', at), meta };
  return { data: { type: 'sendResponse', id: a.answer.messageId !== undefined ? String(a.answer.messageId) : null, attributes: {} }, meta };
}

/**
 * A JSON:API batch answer: `data` aligned with the request items, each with its own responseStatus;
 * refused items are also listed in `errors`, their pointers under `/data/<i>`.
 */
export function jsonApiBatchAnswer(answers: Answer[], ids: (string | undefined)[], at: Locations[] = []) {
  const errorsOf = (a: Extract<Answer, { ok: false }>, i: number) => jsonApiErrors(a.error, httpStatusOf(a.error), `/data/${i}`, at[i]);
  const refused = answers.flatMap((a, i) => (a.ok ? [] : [{ a, i }]));
  const meta = {
    total: answers.length,
    params: [],
    responseStatus: refused.length ? { code: refused[0]!.a.error.status, messages: refused.flatMap(({ a }) => responseStatus(a).messages) } : { code: 0, messages: [] },
  };
  // JSON:API allows `data` or `errors`, never both: with anything accepted, each refused item carries its
  // own error objects in its meta; with nothing accepted, the answer is the errors alone.
  if (refused.length === answers.length) return { errors: refused.flatMap(({ a, i }) => errorsOf(a, i)), meta };
  const data = answers.map((a, i) =>
    a.ok
      ? { type: 'sendResponse', id: String(a.answer.messageId), attributes: {}, meta: { responseStatus: responseStatus(a), params: a.answer.params } }
      : { type: 'sendResponse', id: ids[i] ?? `item-${i}`, attributes: {}, meta: { responseStatus: responseStatus(a), errors: errorsOf(a, i) } },
  );
  return { data, meta };
}
