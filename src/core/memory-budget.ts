// One memory budget for request bodies held in memory, shared by every request of the process (BODY_MEMORY_BYTES):
// SOAP, JSON and JSON:API bodies, multipart parts kept in memory, spooled attachments read for their insert, and
// AMQP bodies once inflated. Bytes are taken before they are read; over the budget a request waits a bounded time,
// then is refused as busy (code 9), never an out-of-memory.
import { ServerBusy } from './errors.js';

export type BodyMemoryOptions = {
  /** Bytes all requests may hold together. */
  totalBytes: number;
  /** Bytes of it that bodies whose client is not known yet may hold together. */
  anonymousBytes: number;
  /** The longest a request waits for its bytes before it is refused as busy. */
  waitMs: number;
};

/** One request's bytes: taken up front (reserve) and as the body grows (take); release() gives all back. */
export type MemoryLease = {
  /** Takes more bytes at once, never waiting (a holder that waited could deadlock with another): false when full. */
  take(bytes: number): boolean;
  /** Gives back bytes taken (e.g. a part that went to a file after all). */
  give(bytes: number): void;
  release(): void;
  readonly held: number;
};

type Waiter = { global: number; anon: number; go: () => void };

export class BodyMemory {
  private free: number;
  private anonFree: number;
  private readonly waiting: Waiter[] = [];

  constructor(readonly o: BodyMemoryOptions) {
    this.free = o.totalBytes;
    this.anonFree = this.anonMax;
  }

  /** Seconds a refused caller is told to wait (Retry-After). */
  get retryAfterS(): number {
    return Math.max(1, Math.ceil(this.o.waitMs / 1000));
  }

  /**
   * Takes `bytes` before the body is read, waiting (in turn) at most waitMs; throws ServerBusy past that. A request
   * larger than its pool waits until it has the whole pool, so it runs alone. Anonymous requests (their client not
   * known before the body is read) also draw on the small anonymous pool, so large ones go one at a time.
   */
  async reserve(bytes: number, anonymous: boolean): Promise<MemoryLease> {
    const w = this.waiterFor(bytes, anonymous);
    // A known request passes waiting anonymous ones (they have the lower priority); nothing else jumps the queue.
    const ahead = this.waiting.some((x) => x.anon === 0 || w.anon > 0);
    if (!ahead && this.fits(w)) this.grant(w);
    else await this.wait(w);
    return this.lease(anonymous, w.global, w.anon);
  }

  /** An empty lease, at once: for a body that takes its bytes as it grows, never waiting while it holds some. */
  open(anonymous: boolean): MemoryLease {
    return this.lease(anonymous, 0, 0);
  }

  /** Runs `fn` holding `bytes` (reserved as reserve() does), and gives them back after. */
  async withBytes<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const lease = await this.reserve(bytes, false);
    try {
      return await fn();
    } finally {
      lease.release();
    }
  }

  /** Bytes not held by any request now. */
  get available(): number {
    return this.free;
  }

  private get anonMax(): number {
    return Math.min(this.o.anonymousBytes, this.o.totalBytes);
  }

  private waiterFor(bytes: number, anonymous: boolean): Waiter {
    const n = Math.max(0, Math.ceil(bytes));
    return { global: Math.min(n, this.o.totalBytes), anon: anonymous ? Math.min(n, this.anonMax) : 0, go: () => undefined };
  }

  private fits = (w: Waiter) => w.global <= this.free && w.anon <= this.anonFree;

  private grant(w: Waiter) {
    this.free -= w.global;
    this.anonFree -= w.anon;
  }

  private wait(w: Waiter): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        this.wake();
        reject(new ServerBusy(this.retryAfterS));
      }, this.o.waitMs);
      w.go = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(w);
    });
  }

  /**
   * Serves waiters in turn. A known request that does not fit stops the turn (a large one is not starved by small
   * ones); an anonymous one that does not fit the anonymous pool holds up only the anonymous ones behind it.
   */
  private wake() {
    let anonBlocked = false;
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      if (w.anon > 0 && (anonBlocked || w.anon > this.anonFree)) {
        anonBlocked = true;
        i++;
        continue;
      }
      if (w.global > this.free) return;
      this.waiting.splice(i, 1);
      this.grant(w);
      w.go();
    }
  }

  /** An anonymous lease holds its bytes in the anonymous pool too, up to the whole of that pool. */
  private lease(anonymous: boolean, global: number, anon: number): MemoryLease {
    let held = global;
    let anonHeld = anon;
    const anonFor = (n: number) => (anonymous ? Math.min(n, this.anonMax) : 0);
    return {
      take: (bytes) => {
        const more = anonFor(held + bytes) - anonHeld;
        if (bytes > this.free || more > this.anonFree) return false;
        this.free -= bytes;
        this.anonFree -= more;
        held += bytes;
        anonHeld += more;
        return true;
      },
      give: (bytes) => {
        const back = Math.min(bytes, held);
        held -= back;
        this.free += back;
        const anonBack = anonHeld - anonFor(held);
        anonHeld -= anonBack;
        this.anonFree += anonBack;
        this.wake();
      },
      release: () => {
        this.free += held;
        this.anonFree += anonHeld;
        held = 0;
        anonHeld = 0;
        this.wake();
      },
      get held() {
        return held;
      },
    };
  }
}
