// Where a multipart request's attachment parts go (SPEC §3): memory while the body budget grants it, else a temp file.
import fs from 'node:fs';
import path from 'node:path';
import type { BodyMemory } from '../../core/memory-budget.js';
import { SpooledFile, type AttachmentContent } from '../../core/send-request.js';

/** The first KiB of every part is kept, wherever the part goes: it is where a PDF reader looks for the magic bytes. */
const HEAD_BYTES = 1024;

/**
 * Attachment parts held in memory, drawn from the process's body budget (BODY_MEMORY_BYTES). A part in memory
 * costs no file: no folder, open, write, read back and removal per request (bench/RESULTS.md, "Notes from the code", has what it saved).
 * Only a request that declares a Content-Length within `perRequest` holds parts; a larger one, or one that
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
export class PartSink {
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
