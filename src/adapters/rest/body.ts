// The body forms of SPEC §3 by Content-Type: JSON:API, plain JSON, or multipart whose `message` part holds one of them.
import type { IncomingMessage } from 'node:http';
import { parseJsonBody, readBodyText } from '../../api/body.js';
import { headerIssue, ValidationError } from '../../core/errors.js';
import { UnsupportedMediaType } from '../forms/http-status.js';
import { JSONAPI } from '../forms/jsonapi.js';
import type { BodyMemory, MemoryLease } from '../../core/memory-budget.js';
import type { AttachmentContent } from '../../core/send-request.js';
import { MESSAGE_PART, partIssue, partPointer, readMultipart, type RestLimits } from './multipart.js';
import type { PartRoom } from './part-sink.js';

export { JSONAPI };
export const JSON_TYPE = 'application/json';
export type BodyForm = 'jsonapi' | 'json';
export const MULTIPART_TYPES = ['multipart/form-data', 'multipart/mixed'];

/** What a request carries: the parsed document, its form, and the attachment parts by name (multipart only). */
export type RestBody = { form: BodyForm; doc: unknown; files: Map<string, AttachmentContent>; multipart: boolean; lease?: MemoryLease };


const formOf = (type: string | undefined): BodyForm | undefined => (type === JSONAPI ? 'jsonapi' : type === JSON_TYPE ? 'json' : undefined);

const parseJson = (text: string, field: string) => parseJsonBody(text, field, field === '/' ? 'the body' : 'the message part');

/** The form a request answers in, known before its body is read (415 and 413 answers use it too). */
export function declaredForm(mediaType: string): BodyForm {
  return formOf(mediaType) ?? 'jsonapi';
}

/**
 * Reads the body by its media type (`mediaType` is the Content-Type without parameters, lower case).
 * `room` keeps multipart parts (in memory or in files); a JSON body's bytes are held by the lease it returns.
 * The caller releases both once the request is answered.
 */
export async function readRestBody(req: IncomingMessage, mediaType: string, limits: RestLimits, room: PartRoom, memory: { memory?: BodyMemory; anonymous: boolean }): Promise<RestBody> {
  const form = formOf(mediaType);
  if (form) {
    const { text, lease } = await readBodyText(req, { limit: limits.maxRequestBytes, ...memory });
    try {
      return { form, doc: parseJson(text, '/'), files: new Map(), multipart: false, lease };
    } catch (e) {
      lease.release();
      throw e;
    }
  }
  if (!MULTIPART_TYPES.includes(mediaType)) {
    const text = `Content-Type ${mediaType ? JSON.stringify(mediaType) : '(none)'} is not supported: send ${JSONAPI}, ${JSON_TYPE}, ${MULTIPART_TYPES.join(' or ')}`;
    throw new UnsupportedMediaType(headerIssue(1, 'Content-Type', text));
  }
  const parts = await readMultipart(req, req.headers['content-type']!, limits, room);
  if (!parts.message) throw new ValidationError([partIssue(1, MESSAGE_PART, `a multipart request needs a part named ${MESSAGE_PART} holding the send request`)]);
  const { text, type } = parts.message;
  // A message part without its own JSON type (a plain form field) is told apart by JSON:API's top-level `data`.
  if (type !== undefined && type !== 'text/plain' && !formOf(type)) {
    throw new UnsupportedMediaType(partIssue(1, MESSAGE_PART, `the message part must be ${JSONAPI} or ${JSON_TYPE}, not ${type}`));
  }
  const doc = parseJson(text, partPointer(MESSAGE_PART));
  const messageForm = formOf(type) ?? sniff(doc);
  return { form: messageForm, doc, files: parts.files, multipart: true };
}

const sniff = (doc: unknown): BodyForm => (doc !== null && typeof doc === 'object' && 'data' in doc ? 'jsonapi' : 'json');
