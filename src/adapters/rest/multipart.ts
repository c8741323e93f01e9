// multipart/form-data and multipart/mixed (SPEC §3): the `message` part in memory; every other part in memory
// while it is small and the body budget allows (PartMemory), else streamed to a temp file.
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { AttachmentError, ServerBusy, ValidationError, type Issue, type StatusCode } from '../../core/errors.js';
import type { BodyMemory } from '../../core/memory-budget.js';
import { SpooledFile, type AttachmentContent } from '../../core/send-request.js';

export type RestLimits = { maxAttachments: number; maxAttachmentBytes: number; maxRequestBytes: number };
/** The `message` part: its text and its media type (without parameters), if it had one. */
export type MessagePart = { text: string; type?: string };
export type Parts = { message?: MessagePart; files: Map<string, AttachmentContent> };

export const MESSAGE_PART = 'message';
const HEAD_BYTES = 1024;

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

/**
 * Attachment parts held in memory, drawn from the process's body budget (BODY_MEMORY_BYTES). A part in memory
 * costs no file: no folder, open, write, read back and removal per request (a 1 MB upload took about 13% less
 * time). Only a request that declares a Content-Length within `perRequest` holds parts; a larger one, or one that
 * does not say (chunked), streams them to files, as does a part that finds the budget used up midway.
 * (While a part is joined into one buffer at its end, its bytes are briefly in memory twice.)
 */
export class PartMemory {
  constructor(
    readonly budget: BodyMemory,
    readonly perRequest: number,
  ) {}
  /** One request's share, taken chunk by chunk while both limits allow; release() gives all of it back. */
  room(declaredLength: number | undefined, dir: () => Promise<string>, anonymous = false): PartRoom {
    const max = declaredLength !== undefined && Number.isFinite(declaredLength) && declaredLength <= this.perRequest ? this.perRequest : 0;
    const lease = this.budget.open(anonymous);
    let parts = 0;
    return {
      hold: (n) => {
        if (parts + n > max || !lease.take(n)) return false;
        parts += n;
        return true;
      },
      holdText: (n) => lease.take(n),
      retryAfterS: this.budget.retryAfterS,
      dir,
      unhold: (n) => {
        const back = Math.min(n, parts);
        parts -= back;
        lease.give(back);
      },
      release: () => {
        parts = 0;
        lease.release();
      },
    };
  }
  /** Bytes not held by any request now. */
  get available() {
    return this.budget.available;
  }
}

/** Where one request's attachment parts go: memory while `hold` grants the bytes, else files in the folder `dir` makes. */
export type PartRoom = {
  hold(bytes: number): boolean;
  /** Bytes of the `message` part, which must stay in memory: false when the budget is used up (busy). */
  holdText(bytes: number): boolean;
  retryAfterS: number;
  /** Gives back bytes held by a part that went to a file after all. */
  unhold(bytes: number): void;
  dir(): Promise<string>;
  release(): void;
};

/**
 * One attachment part: its chunks are held in memory while the room grants them; past that, they and the rest
 * of the part go to a file. The first KiB is kept either way (where a PDF reader looks for the magic bytes).
 */
class PartSink {
  size = 0;
  private chunks: Buffer[] | undefined = [];
  private readonly head: Buffer[] = [];
  private headLen = 0;
  private out?: fs.WriteStream;
  private file?: string;
  /** The file being made: chunks that arrive meanwhile wait here. */
  private opening?: Promise<void>;
  private queued: Buffer[] = [];

  constructor(
    private readonly room: PartRoom,
    private readonly fileName: string,
    private readonly flow: { pause(): void; resume(): void; fail(e: Error): void },
  ) {}

  add(c: Buffer) {
    this.size += c.length;
    if (this.headLen < HEAD_BYTES) {
      const take = c.subarray(0, HEAD_BYTES - this.headLen);
      this.head.push(Buffer.from(take));
      this.headLen += take.length;
    }
    if (this.chunks) {
      if (this.room.hold(c.length)) return void this.chunks.push(c);
      // From here on the part goes to a file, the bytes it held with it.
      this.room.unhold(this.size - c.length);
      this.queued = this.chunks;
      this.chunks = undefined;
      this.opening = this.open();
    }
    if (this.out) this.write(c);
    else this.queued.push(c);
  }

  private async open() {
    // The request waits while the file is made; the chunks the parser already holds queue meanwhile.
    this.flow.pause();
    try {
      this.file = path.join(await this.room.dir(), this.fileName);
      this.out = fs.createWriteStream(this.file, { flags: 'wx', mode: 0o600 });
      this.out.on('error', this.flow.fail);
      const queued = this.queued;
      this.queued = [];
      let more = true;
      for (const c of queued) more = this.out.write(c);
      if (more) this.flow.resume();
      else this.resumeWhenWritten();
    } catch (e) {
      this.flow.fail(e as Error);
    }
  }

  private write(c: Buffer) {
    // Back-pressure: the request waits while the disk catches up.
    if (!this.out!.write(c)) {
      this.flow.pause();
      this.resumeWhenWritten();
    }
  }

  /**
   * Lets the request go on once the file has taken what it was given. A part may end before that, and a stream
   * that was ended emits no 'drain', only 'finish' (or 'close' when destroyed): any of the three will do.
   */
  private resumeWhenWritten() {
    const out = this.out!;
    const go = () => {
      out.off('drain', go).off('finish', go).off('close', go);
      this.flow.resume();
    };
    out.once('drain', go).once('finish', go).once('close', go);
  }

  /** The whole part, once it has ended: its bytes, or the file that holds them. */
  async done(): Promise<AttachmentContent> {
    if (this.chunks) return Buffer.concat(this.chunks, this.size);
    await this.opening;
    const out = this.out;
    if (!out) throw new Error(`part file ${this.fileName} was not made`);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return new SpooledFile(this.file!, this.size, undefined, Buffer.concat(this.head));
  }

  /** Closes the file, if one was made, before the caller removes the folder (an open one could outlive the removal). */
  async close() {
    await this.opening;
    const out = this.out;
    if (out && !out.closed) await new Promise<void>((resolve) => out.destroy().once('close', () => resolve()));
  }
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
