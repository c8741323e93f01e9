// One interface for every channel: deliver a stored message, answer with an outcome instead of throwing.
import type { DeliveryMessage } from '../store/jobs.js';

export type Outcome =
  | { kind: 'sent'; ref?: string; /** ARCHIVE ends in ARCHIVED, the others in SENT */ status?: 'SENT' | 'ARCHIVED' }
  | { kind: 'retry'; reason: string; afterMs?: number }
  | { kind: 'failed'; reason: string };

export interface Channel {
  deliver(m: DeliveryMessage): Promise<Outcome>;
  close(): Promise<void>;
}
