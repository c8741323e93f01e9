// Checks that a body is a readable SOAP 1.1 request for a known operation before node-soap sees it (SPEC §2, STYLE §7).
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SEND_NS = 'http://send.api.hammy.dbx.hu/';
export const OPERATIONS = ['sendMail', 'resendMail'] as const;

// Only the envelope's shape is needed here; the operation's content is node-soap's to parse.
const shapeParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  processEntities: false,
  parseTagValue: false,
  stopNodes: ['*.Body.*'],
});

export type EnvelopeCheck = { ok: true; operation: (typeof OPERATIONS)[number] } | { ok: false; reason: string };

function split(qname: string): [prefix: string, local: string] {
  const i = qname.indexOf(':');
  return i < 0 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

function nsOf(prefix: string, ...scopes: Record<string, unknown>[]): string | undefined {
  const attr = prefix ? `@xmlns:${prefix}` : '@xmlns';
  for (const s of scopes) if (typeof s?.[attr] === 'string') return s[attr] as string;
  return undefined;
}

const elements = (node: Record<string, unknown>) => Object.keys(node).filter((k) => !k.startsWith('@') && k !== '#text' && !k.startsWith('?'));

export function checkEnvelope(xml: string): EnvelopeCheck {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { ok: false, reason: 'DOCTYPE and entity declarations are not allowed' };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { ok: false, reason: `the request is not well-formed XML (line ${valid.err.line}, column ${valid.err.col})` };
  const doc = shapeParser.parse(xml) as Record<string, any>;
  const roots = elements(doc);
  if (roots.length !== 1) return { ok: false, reason: 'the request has no single root element' };
  const [envPrefix, envLocal] = split(roots[0]!);
  const env = doc[roots[0]!];
  if (envLocal !== 'Envelope' || typeof env !== 'object' || nsOf(envPrefix, env) !== SOAP_ENV_NS) {
    return { ok: false, reason: 'the root element is not a SOAP 1.1 Envelope' };
  }
  const bodyKey = elements(env).find((k) => split(k)[1] === 'Body');
  const body = bodyKey ? env[bodyKey] : undefined;
  if (!bodyKey || split(bodyKey)[0] !== envPrefix || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, reason: 'the Envelope has no (single) Body' };
  }
  const ops = elements(body);
  if (ops.length !== 1) return { ok: false, reason: 'the Body must hold exactly one operation element' };
  const [opPrefix, opLocal] = split(ops[0]!);
  const opNode = body[ops[0]!];
  const opNs = nsOf(opPrefix, typeof opNode === 'object' && !Array.isArray(opNode) ? opNode : {}, body, env);
  if (opNs !== SEND_NS || !(OPERATIONS as readonly string[]).includes(opLocal)) {
    return { ok: false, reason: `unknown operation {${opNs ?? ''}}${opLocal}` };
  }
  return { ok: true, operation: opLocal as (typeof OPERATIONS)[number] };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Our own Fault: SOAP 1.1 code, a plain reason, no internal detail. */
export function faultXml(code: 'soap:Client' | 'soap:Server', reason: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_ENV_NS}"><soap:Body><soap:Fault>` +
    `<faultcode>${code}</faultcode><faultstring>${esc(reason)}</faultstring></soap:Fault></soap:Body></soap:Envelope>`
  );
}
