// AMQP bodies (SPEC §8): decode by content_encoding, read by content_type, answer in the request's own form.
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { AttachmentError, limitIssue, SendError, ValidationError } from '../../core/errors.js';
import { checkJsonShape } from '../../core/json-bounds.js';
import type { Param, SendRequestInput } from '../../core/send-request.js';
import { jsonApiAnswer, jsonApiBatchAnswer, plainJsonAnswer, sendInputFromJson, sendInputsFromJsonApi, type Answer } from '../forms/json.js';
import { countElements, XML_BOUNDS } from '../../core/xml-data.js';
import { isObj, resendInputFromXml, sendInputFromXml, withoutXmlData } from '../forms/xml-request.js';

export type Method = 'Send_V2_Send' | 'Send_V2_Resend';
export const METHODS: Method[] = ['Send_V2_Send', 'Send_V2_Resend'];
export type BodyForm = 'xml' | 'json' | 'jsonapi';

const unreadable = (text: string, field = 'body') => new ValidationError([{ code: 1, field, text }]);

export function formOf(contentType: string | undefined): BodyForm | undefined {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'application/xml' || t === 'text/xml') return 'xml';
  if (t === 'application/json') return 'json';
  if (t === 'application/vnd.api+json') return 'jsonapi';
  return undefined;
}

/**
 * content_encoding is a transfer coding (gzip, deflate, br, identity); producers also put a charset there
 * (the Hammy page leaves it open), so a known charset is honoured too. Inflating streams, off the event loop's
 * back: past `maxBytes` it stops (a small compressed bomb cannot inflate past the limit), and every chunk must
 * first find `room` (the memory budget; a refusal there is thrown as it comes, e.g. ServerBusy).
 */
export async function decodeBody(body: Buffer, contentEncoding: string | undefined, contentType: string | undefined, maxBytes = Infinity, room: (inflated: number) => Error | undefined = () => undefined): Promise<string> {
  const enc = (contentEncoding ?? '').trim().toLowerCase();
  const tooLarge = () => new AttachmentError([limitIssue({ code: 5, field: 'body', text: `the message is larger than the limit of ${maxBytes} bytes` })]);
  if (body.length > maxBytes) throw tooLarge();
  const inflater = enc === 'gzip' || enc === 'x-gzip' ? createGunzip : enc === 'deflate' ? createInflate : enc === 'br' ? createBrotliDecompress : undefined;
  const bytes = inflater ? await inflate(body, inflater, maxBytes, room, tooLarge, () => unreadable(`the body is not valid ${enc} data`, 'content_encoding')) : body;
  const charset = ['', 'identity', 'gzip', 'x-gzip', 'deflate', 'br'].includes(enc)
    ? (/charset=([^;]+)/i.exec(contentType ?? '')?.[1]?.trim() ?? 'utf-8')
    : enc;
  try {
    return new TextDecoder(charset, { fatal: true }).decode(bytes);
  } catch {
    throw unreadable(`the body cannot be read as ${charset}`, 'content_encoding');
  }
}

const INFLATE_CHUNK = 64 * 1024;

function inflate(body: Buffer, make: (o: { chunkSize: number }) => NodeJS.ReadWriteStream & { destroy(): void }, maxBytes: number, room: (n: number) => Error | undefined, tooLarge: () => Error, bad: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z = make({ chunkSize: INFLATE_CHUNK });
    const chunks: Buffer[] = [];
    let n = 0;
    const stop = (e: Error) => {
      z.removeAllListeners('data');
      z.destroy();
      reject(e);
    };
    z.on('data', (c: Buffer) => {
      n += c.length;
      if (n > maxBytes) return stop(tooLarge());
      const refused = room(n);
      if (refused) return stop(refused);
      chunks.push(c);
    });
    z.once('end', () => resolve(Buffer.concat(chunks, n)));
    z.once('error', () => reject(bad()));
    z.end(body);
  });
}

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

function parseJson(text: string): unknown {
  checkJsonShape(text, 'body');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw unreadable(`the body is not valid JSON: ${(e as Error).message}`);
  }
}

export type ParsedRequest = { batch: boolean; items: SendRequestInput[]; ids: (string | undefined)[] };

/** The request(s) a message carries; throws a ValidationError naming what is unreadable. */
export function readRequest(method: Method, form: BodyForm, text: string): ParsedRequest {
  try {
    return readRequestUnchecked(method, form, text);
  } catch (e) {
    if (e instanceof SendError) throw e;
    // e.g. a RangeError from absurd nesting: the body is unreadable, not the gateway broken.
    throw unreadable('the body could not be read (too deeply nested?)');
  }
}

function readRequestUnchecked(method: Method, form: BodyForm, text: string): ParsedRequest {
  if (form === 'xml') {
    const doc = parseXml(text);
    const root = method === 'Send_V2_Send' ? 'sendMailRequest' : 'resendMailRequest';
    const r = doc[root];
    if (r === undefined) throw unreadable(`the XML root element must be <${root}> for ${method}`);
    const request = isObj(r) ? r : {};
    const xmlData = typeof request.xmlData === 'string' && request.xmlData.trim() ? request.xmlData : undefined;
    return { batch: false, items: [method === 'Send_V2_Send' ? sendInputFromXml(request, xmlData) : resendInputFromXml(request)], ids: [undefined] };
  }
  const body = parseJson(text);
  if (form === 'jsonapi') return sendInputsFromJsonApi(body);
  if (!isObj(body)) throw unreadable('the body must be a JSON object');
  return { batch: false, items: [method === 'Send_V2_Send' ? sendInputFromJson(body) : { ...body }], ids: [undefined] };
}

const xmlBuilder = new XMLBuilder({ format: false, suppressEmptyNode: true });

function xmlAnswer(method: Method, a: Answer): string {
  const root = method === 'Send_V2_Resend' ? 'resendMailResponse' : 'sendMailResponse';
  const params: Param[] = a.ok ? a.answer.params : [];
  const status = a.ok
    ? { code: 0, messages: '' }
    : { code: a.error.status, messages: { message: a.error.issues.map((i) => ({ code: i.code, field: i.field, text: i.text })) } };
  const body = {
    ...(a.ok && a.answer.messageId !== undefined ? { messageId: a.answer.messageId } : {}),
    status,
    ...(params.length ? { params: { param: params } } : {}),
  };
  return xmlBuilder.build({ [root]: body }) as string;
}

export const CONTENT_TYPES: Record<BodyForm, string> = { xml: 'application/xml', json: 'application/json', jsonapi: 'application/vnd.api+json' };

/** One answer body in the request's form (SPEC §8: XML gets sendMailResponse, JSON the REST shapes). */
export function answerBody(method: Method, form: BodyForm, answers: Answer[], parsed: Pick<ParsedRequest, 'batch' | 'ids'>, httpStatusOf: (e: SendError) => number): string {
  if (form === 'xml') return xmlAnswer(method, answers[0]!);
  if (form === 'json') return JSON.stringify(plainJsonAnswer(answers[0]!));
  if (parsed.batch) return JSON.stringify(jsonApiBatchAnswer(answers, parsed.ids, httpStatusOf));
  const a = answers[0]!;
  return JSON.stringify(jsonApiAnswer(a, a.ok ? 200 : httpStatusOf(a.error)));
}
