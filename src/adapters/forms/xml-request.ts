// The SOAP request's element structure as plain objects (SOAP via node-soap, AMQP application/xml) -> SendRequest input.
import type { SendRequestInput } from '../../core/send-request.js';

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
