// multipart/form-data and multipart/mixed (SPEC §3): the `message` part in memory; every other part in memory
// while it is small and the body budget allows (PartMemory), else streamed to a temp file.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { AttachmentError, ServerBusy, ValidationError, type Issue, type StatusCode } from '../../core/errors.js';
import type { AttachmentContent } from '../../core/send-request.js';
import { PartSink, type PartRoom } from './part-sink.js';

export type RestLimits = { maxAttachments: number; maxAttachmentBytes: number; maxRequestBytes: number };
/** The `message` part: its text and its media type (without parameters), if it had one. */
export type MessagePart = { text: string; type?: string };
export type Parts = { message?: MessagePart; files: Map<string, AttachmentContent> };

export const MESSAGE_PART = 'message';

/** A JSON pointer token (RFC 6901): parts are addressed as `/parts/<name>` in error sources. */
export const partPointer = (name?: string) => (name === undefined ? '/parts' : `/parts/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
/** An issue about a multipart part: named by its pointer in SPEC §7 answers, its source the part. */
export const partIssue = (code: StatusCode, name: string | undefined, text: string, limit?: number): Issue => ({
  code,
  field: partPointer(name),
  text,
  ...(name === undefined ? {} : { source: { part: name } }),
  ...(limit === undefined ? {} : { limit }),
});

const tooLarge = (name: string | undefined, text: string, limit: number) => new AttachmentError([name === undefined ? { code: 5, field: '/', text, limit } : partIssue(5, name, text, limit)]);
const unreadable = (text: string, field = '/parts') => new ValidationError([{ code: 1, field, text }]);

/**
 * A part's name: the Content-Disposition `name` (form-data, and mixed parts that carry one), else its
 * Content-ID without the angle brackets (the usual label of a multipart/mixed part).
 */
export function partName(headers: Record<string, string>, dispositionName: string | null): string | undefined {
  if (dispositionName) return dispositionName;
  const cid = headers['content-id']?.trim();
  return cid ? cid.replace(/^<(.*)>$/, '$1') : undefined;
}

/** Counts the request bytes and stops the stream past the whole-request limit. */
class Meter extends Transform {
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return cb(tooLarge(undefined, `the request is larger than the limit of ${this.max} bytes`, this.max));
    cb(null, chunk);
  }
}

/** The first `n` bytes of a stream, put back for whoever reads it next (pipe() resumes it). */
function peek(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A request whose client already left: nothing more will come.
    if (stream.destroyed) return reject(unreadable('the request ended before its body was complete', '/'));
    const chunks: Buffer[] = [];
    let len = 0;
    const off = () => stream.off('readable', onReadable).off('end', finish).off('error', onError).off('close', onClose);
    const finish = () => {
      off();
      const start = Buffer.concat(chunks);
      if (start.length) stream.unshift(start);
      resolve(start);
    };
    const onReadable = () => {
      let c: Buffer | null;
      while (len < n && (c = stream.read() as Buffer | null) !== null) {
        chunks.push(c);
        len += c.length;
      }
      if (len >= n) finish();
    };
    const onError = (e: Error) => {
      off();
      reject(e);
    };
    // Closed without its end (and without an error to say why): the client left.
    const onClose = () => onError(unreadable('the request ended before its body was complete', '/'));
    stream.on('readable', onReadable).once('end', finish).once('error', onError).once('close', onClose);
  });
}

/**
 * The boundary the body really uses. The Hammy page's sample writes its delimiter lines exactly as the
 * `boundary` parameter (`-----…{{boundary}}`), without the `--` that RFC 2046 puts before it; read
 * literally, that parameter's own first two dashes are that prefix. A body that starts with the
 * parameter itself instead of `--` + parameter is read that way; every other body as the RFC says.
 */
export function effectiveBoundary(boundary: string, start: Buffer): string {
  const head = start.toString('latin1');
  if (head.startsWith(`--${boundary}`)) return boundary;
  if (boundary.startsWith('--') && boundary.length > 2 && (head.startsWith(`${boundary}\r\n`) || head.startsWith(`${boundary}--`))) return boundary.slice(2);
  return boundary;
}

function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

type FormidablePart = Readable & { name: string | null; headers: Record<string, string>; mimetype: string | null };

/**
 * Reads a multipart body: the `message` part as text, every other part into memory or a file as `room`
 * allows, each checked against the limits as it streams (count, size per part, whole request), so nothing
 * over a limit is ever held whole; the first violation stops the parse. Part names must be unique.
 */
export async function readMultipart(req: IncomingMessage, contentType: string, limits: RestLimits, room: PartRoom): Promise<Parts> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxRequestBytes) throw tooLarge(undefined, `the request is larger than the limit of ${limits.maxRequestBytes} bytes`, limits.maxRequestBytes);
  const boundary = boundaryOf(contentType);
  if (!boundary) throw unreadable('the multipart Content-Type has no boundary parameter', '/');

  // formidable is loaded with the first multipart request, not at start (cold start).
  const { default: formidable, errors: formidableErrors, multipart } = await import('formidable');
  const start = await peek(req, boundary.length + 4);
  const meter = new Meter(limits.maxRequestBytes);
  const fixed = contentType.replace(/boundary=(?:"[^"]+"|[^;\s]+)/i, `boundary="${effectiveBoundary(boundary, start)}"`);
  Object.assign(meter, { headers: { ...req.headers, 'content-type': fixed } });
  // The first violation wins; it is checked after the parse too, as formidable may finish a body it already holds.
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    meter.destroy(e);
  };
  const flow = { pause: () => meter.pause(), resume: () => meter.resume(), fail };
  // A client that goes away ends the parse, instead of leaving it waiting for bytes that never come.
  const abort = () => fail(unreadable('the request ended before its body was complete', '/'));
  const onClose = () => !req.readableEnded && abort();
  req.once('aborted', abort).once('error', abort).once('close', onClose);
  req.pipe(meter);

  const parts: Parts = { files: new Map() };
  const seen = new Set<string>();
  const sinks: PartSink[] = [];
  const written: Promise<void>[] = [];
  // Only the multipart plugin: the others guess by substrings of the Content-Type (a boundary containing "json").
  const form = formidable({ enabledPlugins: [multipart] });

  // formidable's documented hook: every part is taken here, so nothing is buffered or stored but as below.
  form.onPart = (p) => {
    const part = p as unknown as FormidablePart;
    const name = partName(part.headers, part.name);
    const n = seen.size + 1;
    if (name === undefined) return fail(new AttachmentError([partIssue(5, undefined, `multipart part ${n} has no name (Content-Disposition name or Content-ID)`)]));
    if (seen.has(name)) return fail(new AttachmentError([partIssue(5, name, `two multipart parts are named ${JSON.stringify(name)}`)]));
    seen.add(name);
    if (name === MESSAGE_PART) {
      const chunks: Buffer[] = [];
      part.on('data', (c: Buffer) => (room.holdText(c.length) ? chunks.push(c) : fail(new ServerBusy(room.retryAfterS))));
      part.on('end', () => {
        parts.message = { text: Buffer.concat(chunks).toString('utf8'), type: part.mimetype?.split(';')[0]!.trim().toLowerCase() || undefined };
      });
      return;
    }
    if (sinks.length >= limits.maxAttachments) {
      return fail(tooLarge(name, `at most ${limits.maxAttachments} attachment parts are allowed; ${JSON.stringify(name)} is one more`, limits.maxAttachments));
    }
    const sink = new PartSink(room, `part-${n}`, flow);
    sinks.push(sink);
    part.on('data', (c: Buffer) => {
      if (sink.size + c.length > limits.maxAttachmentBytes) {
        return fail(tooLarge(name, `part ${JSON.stringify(name)} is larger than the limit of ${limits.maxAttachmentBytes} bytes`, limits.maxAttachmentBytes));
      }
      sink.add(c);
    });
    const stored = new Promise<void>((resolve) => part.once('end', resolve))
      .then(() => sink.done())
      .then((content) => void parts.files.set(name, content));
    // Awaited only when the parse succeeds; after a failure its own error is the one reported.
    stored.catch(() => undefined);
    written.push(stored);
  };

  try {
    await form.parse(meter as unknown as IncomingMessage);
    if (failure) throw failure;
    await Promise.all(written);
    return parts;
  } catch (e) {
    await Promise.all(sinks.map((s) => s.close()));
    throw readError(formidableErrors, failure ?? e);
  } finally {
    req.off('aborted', abort).off('error', abort).off('close', onClose);
    req.unpipe(meter);
  }
}

/** Our own errors pass; formidable's become a 400 that says what, without its parser state. */
function readError(formidableErrors: typeof import('formidable').errors, e: unknown): Error {
  if (e instanceof AttachmentError || e instanceof ValidationError) return e;
  const code = (e as { code?: number }).code;
  if (code === formidableErrors.unknownTransferEncoding) return unreadable('a multipart part uses a Content-Transfer-Encoding other than binary, 8bit, 7bit or base64');
  if (code === formidableErrors.missingMultipartBoundary) return unreadable('the multipart Content-Type has no boundary parameter', '/');
  if (code === formidableErrors.malformedMultipart) return unreadable('the multipart body is malformed or ended early', '/');
  return e as Error;
}
