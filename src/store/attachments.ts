// A message's attachments: their rows (metadata) here, their bytes through the attachment blobs.
import fs from 'node:fs/promises';
import type { Knex } from 'knex';
import type { BodyMemory } from '../core/memory-budget.js';
import type { NewAttachment } from '../core/ports.js';
import { SpooledFile, type AttachmentContent } from '../core/send-request.js';
import type { AttachmentBlobs } from '../core/blobs.js';
import { attachmentRow } from './message-rows.js';
import type { Row } from './rows.js';

/** The bytes of a spooled attachment; a file that changed since it was measured is an internal error, never stored. */
async function readSpooled(f: SpooledFile): Promise<Buffer> {
  const bytes = await fs.readFile(f.path);
  if (bytes.length !== f.size) throw new Error(`spooled attachment ${f.path} changed size (${f.size} -> ${bytes.length})`);
  return bytes;
}

const sizeOf = (c: AttachmentContent) => (Buffer.isBuffer(c) ? c.length : c.size);

/**
 * In the message's transaction: every row in one insert, then each one's bytes. A spooled file is read only for its
 * own put (drawing on the body budget), so a request holds about one attachment in memory at a time.
 */
export async function insertAttachments(trx: Knex.Transaction, blobs: AttachmentBlobs, messageId: number, attachments: NewAttachment<AttachmentContent>[], withBytes: Pick<BodyMemory, 'withBytes'>['withBytes']): Promise<void> {
  if (attachments.length === 0) return;
  await trx('attachments').insert(attachments.map((a, seq) => attachmentRow(messageId, seq, a, sizeOf(a.content))));
  for (const [seq, a] of attachments.entries()) {
    const c = a.content;
    if (Buffer.isBuffer(c)) await blobs.put({ messageId, seq }, c);
    else await withBytes(c.size, async () => blobs.put({ messageId, seq }, await readSpooled(c)));
  }
}

// Every column but the bytes, which come from the blobs.
const COLUMNS = ['seq', 'file_name', 'size', 'document_type', 'object_type', 'object_ref', 'archiving_expected', 'certification_expected', 'delete_source_expected', 'postable_without_certificate', 'internal_file_name', 'properties', 'certified'];

/** The message's attachment rows in order, each with its bytes as `content` (for contentFromRows). */
export async function loadAttachments(db: Knex, blobs: AttachmentBlobs, messageId: number): Promise<Row[]> {
  const rows: Row[] = await db('attachments').where({ message_id: messageId }).orderBy('seq').select(COLUMNS);
  for (const r of rows) r.content = (await blobs.get({ messageId, seq: r.seq })) ?? Buffer.alloc(0);
  return rows;
}
