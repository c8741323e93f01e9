// The XML request form: the SOAP request's element structure as plain objects (SOAP via node-soap, AMQP
// application/xml) -> SendRequest input; the XML text of an AMQP request, and its sendMailResponse answer.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { statusMessage, ValidationError } from '../../core/errors.js';
import type { Answer } from '../../core/requests.js';
import type { Param, SendRequestInput } from '../../core/send-request.js';
import { countElements, XML_BOUNDS } from '../../core/xml-data.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** `<attachments><attachment>…</attachment></attachments>` arrives as { attachment: [...] } or one object: unwrap to the list. */
function list(wrapper: unknown, item: string): Obj[] | undefined {
  if (!isObj(wrapper)) return wrapper === undefined || wrapper === null || wrapper === '' ? undefined : [];
  const v = wrapper[item];
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter(isObj);
}

/** Empty elements arrive as null or '': they mean "not given". */
function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined && v !== '' && k !== 'attributes') out[k] = v;
  return out;
}

const withProps = (o: Obj) => ({ ...clean(o), properties: list(o.properties, 'property')?.map(clean) });

/** `request` is the element `<request>` (SOAP) or `<sendMailRequest>` (AMQP); xmlData comes as XML text. */
export function sendInputFromXml(request: Obj, xmlData: string | undefined): SendRequestInput {
  return {
    ...clean(request),
    xmlData,
    attachments: list(request.attachments, 'attachment')?.map(withProps),
    properties: list(request.properties, 'property')?.map(clean),
    params: list(request.params, 'param')?.map(clean),
  };
}

export function resendInputFromXml(request: Obj): SendRequestInput {
  return { ...clean(request), params: list(request.params, 'param')?.map(clean) };
}

/** The XML with its xmlData element emptied: from the first opening xmlData tag to the last closing one. */
export function withoutXmlData(body: string): string {
  const open = /<(?:[\w.-]+:)?xmlData(?:\s[^>]*)?>/.exec(body);
  if (!open) return body;
  const closing = /<\/(?:[\w.-]+:)?xmlData\s*>/g;
  let last: RegExpExecArray | null = null;
  for (let m = closing.exec(body); m; m = closing.exec(body)) last = m;
  if (!last || last.index < open.index) return body;
  return body.slice(0, open.index + open[0].length) + body.slice(last.index);
}

const unreadable = (text: string) => new ValidationError([{ code: 1, field: 'body', text }]);

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  removeNSPrefix: true,
  // xmlData stays the caller's XML text, as the REST and JSON forms carry it.
  stopNodes: ['*.xmlData'],
  maxNestedTags: XML_BOUNDS.maxDepth,
});

function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw unreadable('DOCTYPE and entity declarations are not allowed');
  // Bounded before it is parsed; xmlData's own elements are xmlData's bound, checked when it is parsed.
  const max = XML_BOUNDS.maxElements;
  if (countElements(text, max) > max && countElements(withoutXmlData(text), max) > max) throw unreadable(`the body has more than ${max} elements`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw unreadable(`the body is not well-formed XML (line ${valid.err.line}, column ${valid.err.col})`);
  return xmlParser.parse(text) as Record<string, unknown>;
}

const ROOTS = { send: ['sendMailRequest', 'sendMailResponse'], resend: ['resendMailRequest', 'resendMailResponse'] } as const;

/** The one request an XML text carries: `<sendMailRequest>` or `<resendMailRequest>`, as SPEC §8 has it. */
export function readXmlRequest(text: string, kind: 'send' | 'resend', method: string = kind): SendRequestInput {
  const root = ROOTS[kind][0];
  const r = parseXml(text)[root];
  if (r === undefined) throw unreadable(`the XML root element must be <${root}> for ${method}`);
  const request = isObj(r) ? r : {};
  if (kind === 'resend') return resendInputFromXml(request);
  return sendInputFromXml(request, typeof request.xmlData === 'string' && request.xmlData.trim() ? request.xmlData : undefined);
}

const xmlBuilder = new XMLBuilder({ format: false, suppressEmptyNode: true });

/** sendMailResponse / resendMailResponse: messageId, status with its messages, params. */
export function xmlAnswer(kind: 'send' | 'resend', a: Answer): string {
  const params: Param[] = a.ok ? a.answer.params : [];
  const status = a.ok ? { code: 0, messages: '' } : { code: a.error.status, messages: { message: a.error.issues.map(statusMessage) } };
  const body = {
    ...(a.ok && a.answer.messageId !== undefined ? { messageId: a.answer.messageId } : {}),
    status,
    ...(params.length ? { params: { param: params } } : {}),
  };
  return xmlBuilder.build({ [ROOTS[kind][1]]: body }) as string;
}
