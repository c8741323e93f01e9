// What delivery works on and answers with: a stored message in, an outcome out (STYLE §4). Channels and documents
// take these types from here, so none needs the store (or PostgreSQL) to be built or tested.
import type { MessageContent } from './ports.js';
import type { Property } from './send-request.js';

/** A message as the worker hands it on: stored, rendered, with its id. */
export type StoredMessage = MessageContent & { id: number };

/**
 * `reason` is stored and shown to the client (status events): never a path, SQL, stack or library text; `detail`
 * (the error itself) goes only to the log. The data beside them is what the worker records (`published`) or logs.
 */
export type Outcome =
  | {
      kind: 'sent';
      ref?: string;
      /** ARCHIVE ends in ARCHIVED, the others in SENT */
      status?: 'SENT' | 'ARCHIVED';
      /** PORTAL: the message is to be shown to its recipient. */
      published?: boolean;
      /** POST: the letter's file in the print outbox and its pages. */
      file?: string;
      pageCount?: number;
    }
  | { kind: 'retry'; reason: string; afterMs?: number; detail?: unknown; published?: boolean }
  | { kind: 'failed'; reason: string; detail?: unknown };

/** What the worker reaches every channel through. */
export interface Channel {
  deliver(m: StoredMessage): Promise<Outcome>;
  close(): Promise<void>;
}

/** A system error's code (`: ENOTDIR`) for a reason: the code says what went wrong, its message would show the path. */
export function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) ? `: ${code}` : '';
}

/** One item archiving writes (SPEC §4 step 4): the message's rendered text, or an attachment. */
export type ArchiveItem = {
  /** The attachment's seq; the message's own text is MESSAGE_SEQ (-1). */
  seq: number;
  fileName: string;
  contentType: string;
  content: Buffer;
  documentType?: string;
  objectType?: string;
  objectRef?: string;
  properties: Property[];
};

/** Where an item went: `dms:<id>`, or a path relative to ARCHIVE_DIR. */
export type ArchiveLocation = { seq: number; target: 'DMS' | 'FS'; location: string };
