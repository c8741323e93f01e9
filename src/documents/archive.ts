// Archiving (SPEC §4 step 4): the rendered message and attachments to the DMS or to ARCHIVE_DIR with a sidecar.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { propertyValue, type Property } from '../core/send-request.js';
import type { DeliveryMessage } from '../store/jobs.js';
import { resolveUnder } from './paths.js';
import { filesFolderOf } from '../store/clients.js';
import { htmlToText } from './html-text.js';

/** The message's own rendered content is archived under this attachment_seq. */
export const MESSAGE_SEQ = -1;

export type ArchiveItem = {
  seq: number;
  fileName: string;
  contentType: string;
  content: Buffer;
  documentType?: string;
  objectType?: string;
  objectRef?: string;
  properties: Property[];
};

/** What the message asks to archive: its rendered text when archivingExpected, each attachment that asks (ARCHIVE: all). */
export function archiveItems(m: DeliveryMessage): ArchiveItem[] {
  const items: ArchiveItem[] = [];
  if (m.archivingExpected) {
    const body = m.textBody ?? htmlToText(m.htmlBody ?? '');
    items.push({
      seq: MESSAGE_SEQ,
      fileName: `message-${m.id}.txt`,
      contentType: 'text/plain; charset=utf-8',
      content: Buffer.from(`Subject: ${m.subject}\n\n${body}`, 'utf8'),
      documentType: m.messageType,
      properties: m.properties,
    });
  }
  m.attachments.forEach((a, seq) => {
    if (!a.archivingExpected && m.channel !== 'ARCHIVE') return;
    items.push({
      seq,
      fileName: a.internalFileName ?? a.fileName,
      contentType: a.fileName.toLowerCase().endsWith('.pdf') ? 'application/pdf' : 'application/octet-stream',
      content: a.content,
      documentType: a.documentType,
      objectType: a.objectType,
      objectRef: a.objectRef,
      properties: a.properties,
    });
  });
  return items;
}

const metadataOf = (props: Property[]) => Object.fromEntries(props.filter((p) => p.isMetaData).map((p) => [p.key, p.value]));
const safeName = (name: string) => path.basename(name).replace(/[^\p{L}\p{N}._ -]/gu, '_') || 'file';

export function createArchiver(knex: Knex, archiveDir: string) {
  async function toDms(m: DeliveryMessage, item: ArchiveItem): Promise<void> {
    // The document and its ledger row commit together: a crash leaves both or neither.
    await knex.transaction(async (trx) => {
      const [doc] = await trx('dms_documents')
        .insert({
          client_id: m.clientId,
          message_id: m.id,
          attachment_seq: item.seq,
          file_name: item.fileName,
          content_type: item.contentType,
          content: item.content,
          size: item.content.length,
          document_type: item.documentType,
          object_type: item.objectType,
          object_ref: item.objectRef,
          metadata: JSON.stringify(metadataOf(item.properties)),
        })
        .onConflict(['message_id', 'attachment_seq'])
        .merge(['content', 'size'])
        .returning('id');
      await trx('archive_entries')
        .insert({ message_id: m.id, attachment_seq: item.seq, target: 'DMS', location: `dms:${doc.id}` })
        .onConflict(['message_id', 'attachment_seq'])
        .ignore();
    });
  }

  async function toFs(m: DeliveryMessage, item: ArchiveItem, props: Property[]): Promise<void> {
    // Each client archives only under its own folder of ARCHIVE_DIR (read now: the operator may have renamed it).
    const client = await knex('clients').where({ id: m.clientId }).first('id', 'files_folder');
    if (!client) throw new Error(`client ${m.clientId} of message ${m.id} not found`);
    const own = path.join(archiveDir, filesFolderOf(client));
    const folder = await resolveUnder(own, propertyValue(props, 'ARCHIVE_RELATIVE_PATH') ?? '/', 'ARCHIVE_RELATIVE_PATH');
    await fs.mkdir(folder, { recursive: true });
    // messageId in the name: one folder may hold many messages' files of the same name.
    const file = path.join(folder, `${m.id}_${safeName(item.fileName)}`);
    const sidecar = {
      messageId: m.id,
      attachmentSeq: item.seq === MESSAGE_SEQ ? null : item.seq,
      fileName: item.fileName,
      contentType: item.contentType,
      size: item.content.length,
      sha256: createHash('sha256').update(item.content).digest('hex'),
      documentType: item.documentType ?? null,
      objectType: item.objectType ?? null,
      objectRef: item.objectRef ?? null,
      partnerRef: m.partnerRef ?? null,
      batchId: m.batchId ?? null,
      metadata: metadataOf(item.properties),
      properties: item.properties,
      archivedAt: new Date().toISOString(),
    };
    // Same path on a re-run: a crash before the ledger row leaves the same bytes there, never a second file;
    // different bytes there are another message's (of an older database), kept.
    await writeNew(file, item.content);
    await writeAtomic(`${file}.meta.json`, Buffer.from(JSON.stringify(sidecar, null, 2)));
    await knex('archive_entries')
      .insert({ message_id: m.id, attachment_seq: item.seq, target: 'FS', location: path.relative(archiveDir, file) })
      .onConflict(['message_id', 'attachment_seq'])
      .ignore();
  }

  return {
    /** Archives what is not archived yet; answers how many items this call archived. Safe to run again. */
    async archive(m: DeliveryMessage): Promise<number> {
      const items = archiveItems(m);
      if (items.length === 0) return 0;
      const done = new Set<number>(await knex('archive_entries').where({ message_id: m.id }).pluck('attachment_seq'));
      let archived = 0;
      for (const item of items) {
        if (done.has(item.seq)) continue;
        const props = item.seq === MESSAGE_SEQ ? m.properties : m.attachments[item.seq]!.properties;
        const target = (propertyValue(props, 'ARCHIVE_TARGET') ?? 'DMS').toUpperCase();
        if (target === 'FS') await toFs(m, item, props);
        else await toDms(m, item);
        archived++;
      }
      return archived;
    },
  };
}
export type Archiver = ReturnType<typeof createArchiver>;

/** A message's file is in place already, and it is another message's: it is kept, and this delivery says so. */
export class FileTaken extends Error {
  constructor(file: string) {
    super(`${path.basename(file)} is there already, a different file (another message's, kept): move it away to let this one through`);
  }
}

/**
 * Puts a message's file in place without replacing another message's (ids restart with a new database while
 * an old outbox stays). Linked from a work file, so a reader never sees half of it; an existing file with the
 * same bytes, or one `mine` says an earlier attempt of this message wrote, counts as written.
 */
export async function writeNew(file: string, bytes: Buffer, mine: (existing: Buffer) => boolean | Promise<boolean> = () => false): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, bytes);
  try {
    await fs.link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const existing = await fs.readFile(file);
    if (!existing.equals(bytes)) {
      if (!(await mine(existing))) throw new FileTaken(file);
      await fs.rename(tmp, file);
      return;
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

export async function writeAtomic(file: string, bytes: Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, file);
}
