// Certification's writes (SPEC §4 step 5): signed bytes replace an attachment's, or come as a new attachment.
import type { Knex } from 'knex';
import type { NewAttachment } from '../core/ports.js';
import { byteaBlobs, type BlobsOf } from './attachment-blobs.js';
import { attachmentRow } from './message-rows.js';

export function createSignedAttachments(knex: Knex, blobsOf: BlobsOf = byteaBlobs) {
  return {
    async replace(messageId: number, seq: number, signed: Buffer): Promise<void> {
      await knex.transaction(async (trx) => {
        await trx('attachments').where({ message_id: messageId, seq }).update({ size: signed.length, certified: true });
        await blobsOf(trx).put({ messageId, seq }, signed);
      });
    },

    async add(messageId: number, seq: number, a: NewAttachment): Promise<void> {
      await knex.transaction(async (trx) => {
        const row = { ...attachmentRow(messageId, seq, a, a.content.length), certified: true };
        const added = await trx('attachments').insert(row).onConflict(['message_id', 'seq']).ignore().returning('seq');
        if (added.length) await blobsOf(trx).put({ messageId, seq }, a.content);
      });
    },
  };
}
