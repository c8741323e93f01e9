// AMQP bodies (SPEC §8): decode by content_encoding, read by content_type, answer in the request's own form.
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { parseJsonBody } from '../../api/body.js';
import { AttachmentError, SendError, ValidationError } from '../../core/errors.js';
import type { Answer } from '../../core/requests.js';
import { jsonApiAnswer, jsonApiBatchAnswer, JSONAPI, readJsonApi } from '../forms/jsonapi.js';
import { plainJsonAnswer, readPlainJson, type RequestDocument, type RequestKind } from '../forms/plain-json.js';
import { readXmlRequest, xmlAnswer } from '../forms/xml-request.js';

export type Method = 'Send_V2_Send' | 'Send_V2_Resend';
export const METHODS: Method[] = ['Send_V2_Send', 'Send_V2_Resend'];
const KINDS: Record<Method, RequestKind> = { Send_V2_Send: 'send', Send_V2_Resend: 'resend' };
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
  const tooLarge = () => new AttachmentError([{ code: 5, field: 'body', text: `the message is larger than the limit of ${maxBytes} bytes`, limit: maxBytes }]);
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

export type ParsedRequest = RequestDocument;

/** The request(s) a message carries, read by the codec of its form (the REST intake's own); throws a ValidationError naming what is unreadable. */
export function readRequest(method: Method, form: BodyForm, text: string): ParsedRequest {
  const kind = KINDS[method];
  try {
    if (form === 'xml') return { batch: false, items: [readXmlRequest(text, kind, method)], ids: [undefined], locations: [{}] };
    const body = parseJsonBody(text, 'body');
    return form === 'jsonapi' ? readJsonApi(body, kind) : readPlainJson(body, 'body');
  } catch (e) {
    if (e instanceof SendError) throw e;
    // e.g. a RangeError from absurd nesting: the body is unreadable, not the gateway broken.
    throw unreadable('the body could not be read (too deeply nested?)');
  }
}

export const CONTENT_TYPES: Record<BodyForm, string> = { xml: 'application/xml', json: 'application/json', jsonapi: JSONAPI };

/** One answer body in the request's form (SPEC §8: XML gets sendMailResponse, JSON the REST shapes). */
export function answerBody(method: Method, form: BodyForm, answers: Answer[], parsed: Pick<ParsedRequest, 'batch' | 'ids'>): string {
  if (form === 'xml') return xmlAnswer(KINDS[method], answers[0]!);
  if (form === 'json') return JSON.stringify(plainJsonAnswer(answers[0]!));
  if (parsed.batch) return JSON.stringify(jsonApiBatchAnswer(answers, parsed.ids));
  return JSON.stringify(jsonApiAnswer(answers[0]!));
}
