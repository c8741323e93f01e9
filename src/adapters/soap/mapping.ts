// node-soap's argument objects <-> the canonical SendRequest input and the SOAP answer (SPEC §2).
import { XMLBuilder } from 'fast-xml-parser';
import type { SendError } from '../../core/errors.js';
import type { Param, SendAnswer, SendRequestInput } from '../../core/send-request.js';

const builder = new XMLBuilder({ ignoreAttributes: false, attributesGroupName: 'attributes', attributeNamePrefix: '' });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** `<attachments><attachment>…</attachment></attachments>` arrives as { attachment: [...] }: unwrap to the list. */
function list(wrapper: unknown, item: string): Obj[] | undefined {
  if (!isObj(wrapper)) return wrapper === undefined || wrapper === null ? undefined : [];
  const v = wrapper[item];
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter(isObj);
}

/** Empty elements arrive as null: they mean "not given". */
function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined && k !== 'attributes') out[k] = v;
  return out;
}

/** xmlData arrives as nested objects (xs:any); the core wants the XML text back. */
function xmlDataText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (isObj(v)) {
    const { attributes: _a, $value, ...rest } = v;
    if (typeof $value === 'string' && Object.keys(rest).length === 0) return $value;
    return builder.build(rest) as string;
  }
  return String(v);
}

const withProps = (o: Obj) => ({ ...clean(o), properties: list(o.properties, 'property')?.map(clean) });

export function sendInputFromSoap(args: Obj): SendRequestInput {
  const r = isObj(args.request) ? args.request : {};
  return {
    ...clean(r),
    xmlData: xmlDataText(r.xmlData),
    attachments: list(r.attachments, 'attachment')?.map(withProps),
    properties: list(r.properties, 'property')?.map(clean),
    params: list(r.params, 'param')?.map(clean),
  };
}

export function resendInputFromSoap(args: Obj): SendRequestInput {
  const r = isObj(args.request) ? args.request : {};
  return { ...clean(r), params: list(r.params, 'param')?.map(clean) };
}

const paramsOut = (params: Param[]) => (params.length ? { param: params.map((p) => ({ key: p.key, value: p.value })) } : {});

export function soapAnswer(a: SendAnswer) {
  return { response: { messageId: a.messageId, status: { code: 0, messages: {} }, params: paramsOut(a.params) } };
}

export function soapError(e: SendError, params: Param[] = []) {
  return {
    response: {
      status: { code: e.status, messages: { message: e.issues.map((i) => ({ code: i.code, field: i.field, text: i.text })) } },
      params: paramsOut(params),
    },
  };
}
