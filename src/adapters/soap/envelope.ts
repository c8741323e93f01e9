// Checks that a body is a readable SOAP 1.1 request for a known operation before node-soap sees it (SPEC §2, STYLE §7).
import { SaxesParser } from 'saxes';
import { countIssue, depthIssue, XML_BOUNDS } from '../../core/xml-data.js';
import type { Issue } from '../../core/errors.js';

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SEND_NS = 'http://send.api.hammy.dbx.hu/';
export const OPERATIONS = ['sendMail', 'resendMail', 'getMessageStatus'] as const;

/** xmlDataIssue: the envelope is readable, but its xmlData is beyond the XML bounds (answered as code 1). */
export type EnvelopeCheck = { ok: true; operation: (typeof OPERATIONS)[number]; xmlDataIssue?: Issue } | { ok: false; reason: string };

function split(qname: string): [prefix: string, local: string] {
  const i = qname.indexOf(':');
  return i < 0 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

type Attributes = Record<string, string>;

function nsOf(prefix: string, ...scopes: Attributes[]): string | undefined {
  const attr = prefix ? `xmlns:${prefix}` : 'xmlns';
  for (const s of scopes) if (typeof s[attr] === 'string') return s[attr];
  return undefined;
}

/**
 * One pass of saxes (a strict, conforming XML parser) over the request: well-formed, and only the envelope's
 * outline is kept (the Envelope, its Body, the Body's operation elements); nothing is built for the operation's
 * content, which is node-soap's to read. Not sax, which node-soap parses with: the same parser driven by two
 * sets of handlers gets slower for both (bench/RESULTS.md, "Notes from the code").
 */
function outline(xml: string, position = false) {
  const parser = new SaxesParser({ xmlns: false, position });
  const found = {
    roots: [] as { name: string; attributes: Attributes }[],
    bodies: [] as { name: string; attributes: Attributes; children: number }[],
    ops: [] as { name: string; attributes: Attributes }[],
    error: undefined as string | undefined,
    // The bounds, kept apart for the caller's template data (xmlData) and the rest of the envelope.
    outside: { elements: 0, depth: 0 },
    xmlData: { elements: 0, depth: 0 },
  };
  let depth = 0;
  let inBody = false;
  let xmlDataAt = 0; // depth of the open xmlData element, 0 outside it
  parser.on('opentag', (t) => {
    depth++;
    if (xmlDataAt) {
      found.xmlData.elements++;
      found.xmlData.depth = Math.max(found.xmlData.depth, depth - xmlDataAt);
    } else {
      found.outside.elements++;
      found.outside.depth = Math.max(found.outside.depth, depth);
      if (depth > 3 && inBody && split(t.name)[1] === 'xmlData') xmlDataAt = depth;
    }
    const attributes = t.attributes as Attributes;
    if (depth === 1) found.roots.push({ name: t.name, attributes });
    else if (depth === 2) {
      inBody = split(t.name)[1] === 'Body';
      if (inBody) found.bodies.push({ name: t.name, attributes, children: 0 });
    } else if (depth === 3 && inBody) {
      found.bodies[found.bodies.length - 1]!.children++;
      if (found.bodies.length === 1) found.ops.push({ name: t.name, attributes });
    }
  });
  parser.on('closetag', () => {
    if (depth === 2) inBody = false;
    if (depth === xmlDataAt) xmlDataAt = 0;
    depth--;
  });
  try {
    parser.write(xml).close(); // with no error handler, saxes throws at the first error
  } catch {
    // Nothing at all, or something after the root (saxes refuses a second root) is an outline matter, not a syntax one.
    if (depth === 0 && (found.roots.length > 0 || xml.trim() === '')) found.error = 'no single root';
    else found.error = position ? `the request is not well-formed XML (line ${parser.line}, column ${parser.column + 1})` : 'not well-formed';
  }
  return found;
}

export function checkEnvelope(xml: string): EnvelopeCheck {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { ok: false, reason: 'DOCTYPE and entity declarations are not allowed' };
  const doc = outline(xml);
  if (doc.error === 'not well-formed') return { ok: false, reason: outline(xml, true).error! }; // again, to say where
  if (doc.error || doc.roots.length !== 1) return { ok: false, reason: 'the request has no single root element' };
  const env = doc.roots[0]!;
  const [envPrefix, envLocal] = split(env.name);
  if (envLocal !== 'Envelope' || nsOf(envPrefix, env.attributes) !== SOAP_ENV_NS) {
    return { ok: false, reason: 'the root element is not a SOAP 1.1 Envelope' };
  }
  const body = doc.bodies[0];
  if (!body || doc.bodies.length !== 1 || split(body.name)[0] !== envPrefix || body.children === 0) {
    return { ok: false, reason: 'the Envelope has no (single) Body' };
  }
  if (doc.ops.length !== 1) return { ok: false, reason: 'the Body must hold exactly one operation element' };
  const op = doc.ops[0]!;
  const [opPrefix, opLocal] = split(op.name);
  const opNs = nsOf(opPrefix, op.attributes, body.attributes, env.attributes);
  if (opNs !== SEND_NS || !(OPERATIONS as readonly string[]).includes(opLocal)) {
    return { ok: false, reason: `unknown operation {${opNs ?? ''}}${opLocal}` };
  }
  // The envelope's own outline (SOAP elements, request fields, attachment lists) has a depth of 6 or 7.
  if (doc.outside.depth > XML_BOUNDS.maxDepth) return { ok: false, reason: `the request nests elements deeper than ${XML_BOUNDS.maxDepth} levels` };
  if (doc.outside.elements > XML_BOUNDS.maxElements) return { ok: false, reason: `the request has more than ${XML_BOUNDS.maxElements} elements` };
  const xmlDataIssue =
    doc.xmlData.depth > XML_BOUNDS.maxDepth ? depthIssue('xmlData') : doc.xmlData.elements > XML_BOUNDS.maxElements ? countIssue('xmlData') : undefined;
  return { ok: true, operation: opLocal as (typeof OPERATIONS)[number], ...(xmlDataIssue ? { xmlDataIssue } : {}) };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Our own Fault: SOAP 1.1 code, a plain reason, no internal detail. */
export function faultXml(code: 'soap:Client' | 'soap:Server', reason: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_ENV_NS}"><soap:Body><soap:Fault>` +
    `<faultcode>${code}</faultcode><faultstring>${esc(reason)}</faultstring></soap:Fault></soap:Body></soap:Envelope>`
  );
}
