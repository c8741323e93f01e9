// Speaks the REST intake's wire: JSON bodies, multipart bodies built part by part, and the Hammy page's sample request.
import { fixture, fixtureBytes } from './gateway.js';

export const SEND = '/hammy/json/send/v2/send';
export const RESEND = '/hammy/json/send/v2/resend';
export const JSONAPI = 'application/vnd.api+json';

export type RestResult = { status: number; headers: Headers; json: any; text: string };

export async function post(baseUrl: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<RestResult> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const postJson = (baseUrl: string, doc: unknown, headers: Record<string, string> = {}, path = SEND, type = 'application/json') =>
  post(baseUrl, path, typeof doc === 'string' ? doc : JSON.stringify(doc), { 'content-type': type, ...headers });
export const postJsonApi = (baseUrl: string, doc: unknown, headers: Record<string, string> = {}, path = SEND) => postJson(baseUrl, doc, headers, path, JSONAPI);

export type Part = { name?: string; headers?: Record<string, string>; body: string | Buffer; type?: string; filename?: string };

/** A multipart body with CRLF framing as RFC 2046 has it; form-data parts get a Content-Disposition, mixed ones a Content-ID. */
export function multipart(parts: Part[], kind: 'form-data' | 'mixed' = 'form-data', boundary = `hammy-${Math.random().toString(16).slice(2)}`) {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const h: Record<string, string> = {};
    if (p.name !== undefined) {
      if (kind === 'form-data') h['Content-Disposition'] = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
      else h['Content-ID'] = `<${p.name}>`;
    }
    if (p.type) h['Content-Type'] = p.type;
    Object.assign(h, p.headers);
    const head = Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/${kind}; boundary=${boundary}` };
}

export function postMultipart(baseUrl: string, parts: Part[], headers: Record<string, string> = {}, kind: 'form-data' | 'mixed' = 'form-data', path = SEND) {
  const m = multipart(parts, kind);
  return post(baseUrl, path, m.body, { 'content-type': m.contentType, ...headers });
}

/**
 * The Hammy page's REST sample (fixtures/rest/seed-multipart.http, its text as the page shows it) as the HTTP
 * request it stands for: placeholders filled, the binary placeholder replaced by the real PNG, CRLF line ends,
 * and the empty lines that end each header block (the page's rendering drops empty lines). Everything else
 * stays as written: the boundary parameter, delimiter lines equal to it, no closing delimiter.
 */
export function pageSample(values: Record<string, string>) {
  const text = fixture('rest', 'seed-multipart.http').replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in values)) throw new Error(`no value for {{${k}}}`);
    return values[k]!;
  });
  const lines = text.replace(/\n$/, '').split('\n');
  const [requestLine, ...rest] = lines;
  const headers: Record<string, string> = {};
  let i = 0;
  for (; i < rest.length && /^[\w-]+: /.test(rest[i]!); i++) {
    const [k, ...v] = rest[i]!.split(': ');
    headers[k!.toLowerCase()] = v.join(': ');
  }
  const delimiter = rest[i]!;
  const out: Buffer[] = [];
  let inHeaders = false;
  for (const line of rest.slice(i)) {
    if (line === delimiter) {
      inHeaders = true;
      out.push(Buffer.from(`${line}\r\n`));
      continue;
    }
    if (inHeaders && !/^[\w-]+: /.test(line)) {
      inHeaders = false;
      out.push(Buffer.from('\r\n'));
    }
    // The binary placeholder becomes the file; its line end belongs to the next delimiter, as in any part.
    out.push(line === '[BINÁRIS TARTALOM]' ? Buffer.concat([fixtureBytes('files', 'image.png'), Buffer.from('\r\n')]) : Buffer.from(`${line}\r\n`));
  }
  const [method, target] = requestLine!.split(' ');
  return { method: method!, target: target!, headers, body: Buffer.concat(out) };
}
