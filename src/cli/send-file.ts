// `hammy send <file>`: a request written as JSON or XML, sent through SOAP, REST or the queue, and its answer read back.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CliError, postText, type Connection } from './gateway-client.js';

export type SendVia = 'soap' | 'rest' | 'amqp';
export type SendOptions = { via?: SendVia; batchId?: string; amqpUrl: string; queue: string; timeoutMs: number };
export type Issue = { code: number; field?: string; text: string };
export type SendResult = { via: SendVia; code: number; messageId?: number; messages: Issue[]; params: { key: string; value: string }[] };

type Json = Record<string, unknown>;
type Request = { kind: 'json'; body: Json; jsonApi: boolean } | { kind: 'xml'; inner: string };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON object (flat fields, or a JSON:API document) or XML: a SOAP envelope, `<sendMailRequest>` or `<request>`. */
export async function readRequestFile(file: string): Promise<Request> {
  const text = await fs.readFile(file, 'utf8').catch((e) => {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  });
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('{')) {
    let body: unknown;
    try {
      body = JSON.parse(trimmed);
    } catch (e) {
      throw new CliError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObj(body)) throw new CliError(`${file} must hold one JSON object`);
    return { kind: 'json', body, jsonApi: 'data' in body };
  }
  const valid = XMLValidator.validate(trimmed);
  if (valid !== true) throw new CliError(`${file} is neither a JSON object nor well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  // The request element's content, whichever of the three forms holds it.
  const open = /<([\w.-]+:)?(request|sendMailRequest)(\s[^>]*)?>/.exec(trimmed);
  if (!open) throw new CliError(`${file}: no <request> or <sendMailRequest> element found`);
  const close = trimmed.lastIndexOf(`</${open[1] ?? ''}${open[2]}>`);
  return { kind: 'xml', inner: trimmed.slice(open.index + open[0].length, close) };
}

/** The key goes in only when the file names none: a key written in the file is deliberate. */
function completeXml(inner: string, key: string | undefined, batchId: string | undefined): string {
  let out = inner;
  if (batchId !== undefined) {
    out = /<batchId>[\s\S]*?<\/batchId>/.test(out) ? out.replace(/<batchId>[\s\S]*?<\/batchId>/, `<batchId>${esc(batchId)}</batchId>`) : `<batchId>${esc(batchId)}</batchId>${out}`;
  }
  if (key && !/<clientHashKey>/.test(out)) out = `<clientHashKey>${esc(key)}</clientHashKey>${out}`;
  return out;
}

function completeJson(r: Extract<Request, { kind: 'json' }>, key: string | undefined, batchId: string | undefined): Json {
  const body = structuredClone(r.body);
  const targets: Json[] = r.jsonApi ? (Array.isArray(body.data) ? body.data : [body.data]).flatMap((d) => (isObj(d) ? [(d.attributes ??= {}) as Json] : [])) : [body];
  for (const t of targets) {
    if (batchId !== undefined) t.batchId = batchId;
    if (key && t.clientHashKey === undefined) t.clientHashKey = key;
  }
  return body;
}

/** Flat JSON fields as the SOAP request's elements: lists wrapped, xmlData as the XML it is. */
function jsonToXml(o: Json): string {
  const item = (tag: string, v: Json) => `<${tag}>${jsonToXml(v)}</${tag}>`;
  return Object.entries(o)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => {
      if (k === 'xmlData' && typeof v === 'string') return `<xmlData>${v.replace(/^<\?xml[^>]*\?>/, '')}</xmlData>`;
      if (Array.isArray(v)) {
        const tag = { attachments: 'attachment', properties: 'property', params: 'param' }[k];
        if (!tag) throw new CliError(`${k}: a list is only allowed for attachments, properties and params`);
        return `<${k}>${v.filter(isObj).map((x) => item(tag, x)).join('')}</${k}>`;
      }
      if (isObj(v)) throw new CliError(`${k}: an object is not a SendRequest field`);
      return `<${k}>${esc(String(v))}</${k}>`;
    })
    .join('');
}

const soapEnvelope = (inner: string) =>
  `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:send="http://send.api.hammy.dbx.hu/"><soapenv:Header/><soapenv:Body><send:sendMail><request>${inner}</request></send:sendMail></soapenv:Body></soapenv:Envelope>`;

const xmlParser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, isArray: (name) => ['message', 'param'].includes(name) });

/** `sendMailResponse` from SOAP (`<response>` inside) or the queue (fields directly inside). */
function readXmlAnswer(via: SendVia, text: string): SendResult {
  const doc = xmlParser.parse(text);
  const body = doc?.Envelope?.Body ?? doc;
  if (body?.Fault) throw new CliError(`SOAP Fault ${body.Fault.faultcode}: ${body.Fault.faultstring}`);
  const r = body?.sendMailResponse?.response ?? body?.sendMailResponse;
  if (!r?.status) throw new CliError(`unexpected answer: ${text.slice(0, 300)}`);
  return {
    via,
    code: Number(r.status.code),
    messageId: r.messageId !== undefined ? Number(r.messageId) : undefined,
    messages: (r.status.messages?.message ?? []).map((m: any) => ({ code: Number(m.code), field: m.field, text: m.text })),
    params: r.params?.param ?? [],
  };
}

/** The REST answers of SPEC §3: plain JSON (`messageId`) or JSON:API (`data.id`), both with meta.responseStatus. */
function readJsonAnswer(via: SendVia, text: string): SendResult {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CliError(`unexpected answer: ${text.slice(0, 300)}`);
  }
  const status = doc?.meta?.responseStatus;
  if (!status) throw new CliError(`unexpected answer: ${text.slice(0, 300)}`);
  const id = doc.messageId ?? (isObj(doc.data) ? doc.data.id : Array.isArray(doc.data) ? doc.data[0]?.id : undefined);
  return { via, code: Number(status.code), messageId: id !== undefined && id !== null ? Number(id) : undefined, messages: status.messages ?? [], params: doc.meta.params ?? [] };
}

async function viaQueue(o: SendOptions, body: string, contentType: string, key: string | undefined): Promise<string> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(o.amqpUrl).catch((e) => {
    throw new CliError(`cannot reach the broker at ${o.amqpUrl.replace(/\/\/[^@]*@/, '//')}: ${(e as Error).message}`);
  });
  try {
    const ch = await conn.createChannel();
    const { queue: replyTo } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    const correlationId = randomUUID();
    const answer = new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new CliError(`no answer on the queue within ${o.timeoutMs} ms (is the gateway consuming ${o.queue}?)`)), o.timeoutMs);
      void ch.consume(replyTo, (m) => {
        if (m && m.properties.correlationId === correlationId) {
          clearTimeout(t);
          resolve(m.content.toString('utf8'));
        }
      }, { noAck: true });
    });
    ch.sendToQueue(o.queue, Buffer.from(body), {
      contentType,
      correlationId,
      replyTo,
      persistent: true,
      headers: { 'X-Method-Name': 'Send_V2_Send', ...(key ? { 'X-Client-Hash-Key': key } : {}) },
    });
    return await answer;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export async function sendRequest(conn: Connection, r: Request, o: SendOptions): Promise<SendResult> {
  const via = o.via ?? (r.kind === 'json' ? 'rest' : 'soap');
  if (r.kind === 'xml') {
    const inner = completeXml(r.inner, conn.key, o.batchId);
    if (via === 'rest') throw new CliError('an XML request goes by SOAP or the queue: use --via soap or --via amqp');
    if (via === 'amqp') return readXmlAnswer(via, await viaQueue(o, `<sendMailRequest>${inner}</sendMailRequest>`, 'application/xml', conn.key));
    const res = await postText(conn, '/hammy/soap/send/v2', soapEnvelope(inner), 'text/xml; charset=utf-8');
    return readXmlAnswer(via, res.text);
  }
  const body = completeJson(r, conn.key, o.batchId);
  const contentType = r.jsonApi ? 'application/vnd.api+json' : 'application/json';
  if (via === 'amqp') return readJsonAnswer(via, await viaQueue(o, JSON.stringify(body), contentType, conn.key));
  if (via === 'soap') {
    if (r.jsonApi) throw new CliError('a JSON:API document goes by REST or the queue: use --via rest or --via amqp');
    return readXmlAnswer(via, (await postText(conn, '/hammy/soap/send/v2', soapEnvelope(jsonToXml(body)), 'text/xml; charset=utf-8')).text);
  }
  return readJsonAnswer(via, (await postText(conn, '/hammy/json/send/v2/send', JSON.stringify(body), contentType)).text);
}
