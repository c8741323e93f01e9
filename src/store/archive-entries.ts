// Archiving's ledger (archive_entries: one row per item archived) and the DMS target, kept in dms_documents.
import type { Knex } from 'knex';
import type { ArchiveItem, StoredMessage } from '../core/delivery.js';
import { filesFolderOf } from './clients.js';

export function createArchiveStore(knex: Knex) {
  return {
    async archivedSeqs(messageId: number): Promise<number[]> {
      return knex('archive_entries').where({ message_id: messageId }).pluck('attachment_seq');
    },

    async filesFolder(clientId: number): Promise<string | undefined> {
      const client = await knex('clients').where({ id: clientId }).first('id', 'files_folder');
      return client ? filesFolderOf(client) : undefined;
    },

    async toDms(m: Pick<StoredMessage, 'id' | 'clientId'>, item: ArchiveItem, metadata: Record<string, string>): Promise<string> {
      return knex.transaction(async (trx) => {
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
            metadata: JSON.stringify(metadata),
          })
          .onConflict(['message_id', 'attachment_seq'])
          .merge(['content', 'size'])
          .returning('id');
        const location = `dms:${doc.id}`;
        await trx('archive_entries').insert({ message_id: m.id, attachment_seq: item.seq, target: 'DMS', location }).onConflict(['message_id', 'attachment_seq']).ignore();
        return location;
      });
    },

    async recordFile(messageId: number, seq: number, location: string): Promise<void> {
      await knex('archive_entries').insert({ message_id: messageId, attachment_seq: seq, target: 'FS', location }).onConflict(['message_id', 'attachment_seq']).ignore();
    },
  };
}
