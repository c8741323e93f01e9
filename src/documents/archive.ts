// Archiving (SPEC §4 step 4): the rendered message and attachments to the DMS or to ARCHIVE_DIR with a sidecar.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { propertyValue, type Property } from '../core/send-request.js';
import type { ArchiveItem, ArchiveLocation, StoredMessage } from '../core/delivery.js';
import { resolveUnder } from './paths.js';
import { htmlToText } from './html-text.js';

/** The message's own rendered content is archived under this attachment_seq. */
export const MESSAGE_SEQ = -1;

export type { ArchiveItem, ArchiveLocation };

/** What archiving asks of the store: the ledger of archived items, the client's folder, and the DMS (a table there). */
export interface ArchiveStore {
  archivedSeqs(messageId: number): Promise<number[]>;
  /** The client's own folder under ARCHIVE_DIR; undefined: no such client. */
  filesFolder(clientId: number): Promise<string | undefined>;
  /** The document and its ledger row, committed together: a crash leaves both or neither. Answers the location. */
  toDms(m: Pick<StoredMessage, 'id' | 'clientId'>, item: ArchiveItem, metadata: Record<string, string>): Promise<string>;
  /** A file archived under ARCHIVE_DIR, at `location` relative to it. */
  recordFile(messageId: number, seq: number, location: string): Promise<void>;
}

/** What the message asks to archive: its rendered text when archivingExpected, each attachment that asks (ARCHIVE: all). */
export function archiveItems(m: StoredMessage): ArchiveItem[] {
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

export function createArchiver(store: ArchiveStore, archiveDir: string) {
  async function toFs(m: StoredMessage, item: ArchiveItem, props: Property[]): Promise<string> {
    // Each client archives only under its own folder of ARCHIVE_DIR (read now: the operator may have renamed it).
    const folderName = await store.filesFolder(m.clientId);
    if (folderName === undefined) throw new Error(`client ${m.clientId} of message ${m.id} not found`);
    const own = path.join(archiveDir, folderName);
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
    const location = path.relative(archiveDir, file);
    await store.recordFile(m.id, item.seq, location);
    return location;
  }

  return {
    /** Archives what is not archived yet; answers where this call archived each item. Safe to run again. */
    async archive(m: StoredMessage): Promise<ArchiveLocation[]> {
      const items = archiveItems(m);
      if (items.length === 0) return [];
      const done = new Set<number>(await store.archivedSeqs(m.id));
      const archived: ArchiveLocation[] = [];
      for (const item of items) {
        if (done.has(item.seq)) continue;
        const props = item.seq === MESSAGE_SEQ ? m.properties : m.attachments[item.seq]!.properties;
        const target = (propertyValue(props, 'ARCHIVE_TARGET') ?? 'DMS').toUpperCase();
        if (target === 'FS') archived.push({ seq: item.seq, target: 'FS', location: await toFs(m, item, props) });
        else archived.push({ seq: item.seq, target: 'DMS', location: await store.toDms(m, item, metadataOf(item.properties)) });
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
