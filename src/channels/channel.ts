// One interface for every channel: deliver a stored message, answer with an outcome instead of throwing.
import type { DeliveryMessage } from '../store/jobs.js';

export type Outcome =
  | { kind: 'sent'; ref?: string; /** ARCHIVE ends in ARCHIVED, the others in SENT */ status?: 'SENT' | 'ARCHIVED' }
  | { kind: 'retry'; reason: string; afterMs?: number; detail?: unknown }
  | { kind: 'failed'; reason: string; detail?: unknown };
// `reason` is stored and shown to the client (status events): never a path, SQL, stack or library text.
// `detail` (the error itself) goes only to the log.

export interface Channel {
  deliver(m: DeliveryMessage): Promise<Outcome>;
  close(): Promise<void>;
}

/** A system error's code (`: ENOTDIR`) for a reason: the code says what went wrong, its message would show the path. */
export function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) ? `: ${code}` : '';
}
