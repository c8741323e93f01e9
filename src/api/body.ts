// JSON bodies of the management APIs: plain JSON or a JSON:API document whose data.attributes hold the fields.
import getRawBody from 'raw-body';
import { AttachmentError, limitIssue, ValidationError } from '../core/errors.js';
import { UnsupportedMediaType } from './jsonapi.js';

type Ctx = { is(...types: string[]): string | false | null; req: NodeJS.ReadableStream; get(h: string): string };
export const MAX_JSON_BYTES = 5 * 1024 * 1024;

/**
 * The fields of a request body. A JSON:API document must carry one of `types` as data.type; a plain JSON
 * object is the fields themselves. 415 for another media type, 413 past the limit, 400 for unreadable JSON.
 */
export async function readAttributes(ctx: Ctx, types: string[], limit = MAX_JSON_BYTES): Promise<Record<string, unknown>> {
  const jsonApi = ctx.is('application/vnd.api+json') !== false;
  if (!jsonApi && !ctx.is('application/json')) {
    throw new UnsupportedMediaType({ code: 1, field: 'Content-Type', text: 'the body must be application/json or application/vnd.api+json' });
  }
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, encoding: 'utf8', length: ctx.get('content-length') || undefined });
  } catch (e) {
    if ((e as { type?: string }).type !== 'entity.too.large') throw new ValidationError([{ code: 1, field: '/', text: 'the request body could not be read' }]);
    throw new AttachmentError([limitIssue({ code: 5, field: '/', text: `the body is larger than the limit of ${limit} bytes` })], true);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([{ code: 1, field: '/', text: `the body is not valid JSON: ${(e as Error).message}` }]);
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(body)) throw new ValidationError([{ code: 1, field: '/', text: 'the body must be a JSON object' }]);
  if (!jsonApi && !('data' in body)) return body;
  const data = body.data;
  if (!isObj(data)) throw new ValidationError([{ code: 1, field: '/data', text: 'a JSON:API document needs data as a resource object' }]);
  if (typeof data.type !== 'string' || !types.includes(data.type)) {
    throw new ValidationError([{ code: 1, field: '/data/type', text: `/data/type must be ${types.join(' or ')}` }]);
  }
  if (data.attributes !== undefined && !isObj(data.attributes)) {
    throw new ValidationError([{ code: 1, field: '/data/attributes', text: '/data/attributes must be an object' }]);
  }
  return (data.attributes as Record<string, unknown> | undefined) ?? {};
}
