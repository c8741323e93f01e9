// Request bodies read whole into memory, for every route that does so (SOAP, REST JSON, the management APIs): the
// size cap and the shared memory budget hold before a byte is read; JSON is checked for its shape before parsing.
import type { IncomingMessage } from 'node:http';
import { AttachmentError, headerIssue, ServerBusy, ValidationError } from '../core/errors.js';
import { checkJsonShape } from '../core/json-bounds.js';
import type { BodyMemory, MemoryLease } from '../core/memory-budget.js';
import { UnsupportedMediaType } from '../adapters/forms/http-status.js';
import { resourceAttributes } from '../adapters/forms/jsonapi.js';

type Ctx = {
  is(...types: string[]): string | false | null;
  req: IncomingMessage;
  res: NodeJS.EventEmitter;
  /** The process's body budget (app.context, set by http.ts). */
  bodyMemory?: BodyMemory;
};
export const MAX_JSON_BYTES = 5 * 1024 * 1024;
/** What a body of unknown length (chunked) reserves before its first byte; it takes more, without waiting, as it grows. */
const UNKNOWN_LENGTH_START = 64 * 1024;

export type BodyText = { text: string; lease: MemoryLease };
export type ReadOptions = {
  limit: number;
  memory?: BodyMemory;
  /** The client is not known before the body is read: the bytes come from the small anonymous allowance too. */
  anonymous: boolean;
  /** How the answer names what was too large. */
  field?: string;
};

const none: MemoryLease = { take: () => true, give: () => undefined, release: () => undefined, held: Infinity };
const unreadable = (field: string) => new ValidationError([{ code: 1, field, text: 'the request body could not be read' }]);

/**
 * Reads a whole body as UTF-8 text. Its Content-Length is reserved from the budget first (waiting a bounded time:
 * ServerBusy past it); a body of unknown length reserves a first 64 KiB, then takes more as it grows, failing as busy
 * rather than waiting while it holds bytes. The caller releases the lease once the request is answered.
 */
export async function readBodyText(req: IncomingMessage, o: ReadOptions): Promise<BodyText> {
  const field = o.field ?? '/';
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) throw unreadable(field);
  const tooLarge = () => new AttachmentError([{ code: 5, field, text: `the request is larger than the limit of ${o.limit} bytes`, limit: o.limit }]);
  if (declared !== undefined && declared > o.limit) throw tooLarge();
  const lease = o.memory ? await o.memory.reserve(declared ?? Math.min(o.limit, UNKNOWN_LENGTH_START), o.anonymous) : none;
  try {
    const bytes = await collect(req, declared, o.limit, (n) => n <= lease.held || lease.take(n - lease.held), tooLarge, () => new ServerBusy(o.memory!.retryAfterS), field);
    const text = bytes.toString('utf8');
    // A byte-order mark is no part of the document (raw-body, used before, dropped it too).
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, lease };
  } catch (e) {
    lease.release();
    throw e;
  }
}

function collect(req: IncomingMessage, declared: number | undefined, limit: number, room: (n: number) => boolean, tooLarge: () => Error, busy: () => Error, field: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (req.readableEnded || req.destroyed) return reject(unreadable(field));
    const chunks: Buffer[] = [];
    let n = 0;
    const off = () => req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    const fail = (e: Error) => {
      off();
      req.pause();
      reject(e);
    };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > limit) return fail(tooLarge());
      if (!room(n)) return fail(busy());
      chunks.push(c);
    };
    const onEnd = () => {
      off();
      if (declared !== undefined && n !== declared) return reject(unreadable(field));
      resolve(Buffer.concat(chunks, n));
    };
    const onError = () => fail(unreadable(field));
    const onClose = () => fail(unreadable(field));
    req.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}

/** Parses a JSON body after its shape check (key count, depth): both refusals are code 1 naming `field`. */
export function parseJsonBody(text: string, field = '/', what = 'the body'): unknown {
  checkJsonShape(text, field, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ValidationError([{ code: 1, field, text: `${what} is not valid JSON: ${(e as Error).message}` }]);
  }
}

/**
 * The fields of a request body. A JSON:API document must carry one of `types` as data.type; a plain JSON
 * object is the fields themselves. 415 for another media type, 413 past the limit, 400 for unreadable JSON.
 */
export async function readAttributes(ctx: Ctx, types: string[], limit = MAX_JSON_BYTES): Promise<Record<string, unknown>> {
  const jsonApi = ctx.is('application/vnd.api+json') !== false;
  if (!jsonApi && !ctx.is('application/json')) {
    throw new UnsupportedMediaType(headerIssue(1, 'Content-Type', 'the body must be application/json or application/vnd.api+json'));
  }
  // These routes know their caller (admin token, client key) before the body: the whole budget is theirs to share.
  const { text, lease } = await readBodyText(ctx.req, { limit, memory: ctx.bodyMemory, anonymous: false });
  ctx.res.once('close', () => lease.release());
  return resourceAttributes(parseJsonBody(text), types, jsonApi);
}
