// Speaks SOAP to the running gateway and reads the answer.
import { XMLParser } from 'fast-xml-parser';

const parser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, isArray: (name) => ['message', 'param', 'event'].includes(name) });

export type SoapResult = {
  httpStatus: number;
  raw: string;
  messageId?: number;
  code?: number;
  messages: { code: number; field?: string; text: string }[];
  params: { key: string; value: string }[];
  fault?: { faultcode: string; faultstring: string };
  /** The operation's <response> as parsed (every value a string), for fields beyond these. */
  response?: Record<string, any>;
};

export async function postSoap(baseUrl: string, envelope: string, headers: Record<string, string> = {}): Promise<SoapResult> {
  const res = await fetch(`${baseUrl}/hammy/soap/send/v2`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', ...headers },
    body: envelope,
  });
  const raw = await res.text();
  const doc = parser.parse(raw);
  const body = doc?.Envelope?.Body ?? {};
  if (body.Fault) return { httpStatus: res.status, raw, messages: [], params: [], fault: body.Fault };
  const op = body.sendMailResponse ?? body.resendMailResponse ?? body.getMessageStatusResponse;
  const r = op?.response ?? {};
  return {
    httpStatus: res.status,
    raw,
    messageId: r.messageId !== undefined ? Number(r.messageId) : undefined,
    code: r.status?.code !== undefined ? Number(r.status.code) : undefined,
    messages: (r.status?.messages?.message ?? []).map((m: any) => ({ code: Number(m.code), field: m.field, text: m.text })),
    params: r.params?.param ?? [],
    response: r,
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Builds a sendMail / resendMail / getMessageStatus envelope from plain fields (strings, or raw XML for keys given in `rawXml`). */
export function envelope(op: 'sendMail' | 'resendMail' | 'getMessageStatus', fields: Record<string, string | undefined>, rawXml: Record<string, string> = {}): string {
  const inner =
    Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${esc(v!)}</${k}>`)
      .join('') + Object.entries(rawXml).map(([k, v]) => `<${k}>${v}</${k}>`).join('');
  return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:send="http://send.api.hammy.dbx.hu/"><soapenv:Header/><soapenv:Body><send:${op}><request>${inner}</request></send:${op}></soapenv:Body></soapenv:Envelope>`;
}
