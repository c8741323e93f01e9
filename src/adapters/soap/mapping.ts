// node-soap's argument objects <-> the canonical SendRequest input and the SOAP answer (SPEC §2).
import { XMLBuilder } from 'fast-xml-parser';
import type { SendError } from '../../core/errors.js';
import type { Param, SendAnswer, SendRequestInput } from '../../core/send-request.js';
import { isObj, resendInputFromXml, sendInputFromXml, type Obj } from '../forms/xml-request.js';

const builder = new XMLBuilder({ ignoreAttributes: false, attributesGroupName: 'attributes', attributeNamePrefix: '' });

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

export function sendInputFromSoap(args: Obj): SendRequestInput {
  const r = isObj(args.request) ? args.request : {};
  return sendInputFromXml(r, xmlDataText(r.xmlData));
}

export function resendInputFromSoap(args: Obj): SendRequestInput {
  return resendInputFromXml(isObj(args.request) ? args.request : {});
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
