// The attachment blobs in the attachments table's bytea column: the bytes of a row its metadata insert made.
import type { Knex } from 'knex';
import type { AttachmentBlobs, BlobKey } from '../core/blobs.js';
import { asBuffer } from './rows.js';

const EMPTY = Buffer.alloc(0);

/** `db` may be a transaction: the bytes then commit (or roll back) with the message. */
export function byteaBlobs(db: Knex | Knex.Transaction): AttachmentBlobs {
  const row = (k: BlobKey) => db('attachments').where({ message_id: k.messageId, seq: k.seq });
  return {
    async put(k, bytes) {
      const n = await row(k).update({ content: bytes });
      if (n === 0) throw new Error(`no attachment ${k.seq} of message ${k.messageId} to hold these bytes`);
    },
    async get(k) {
      const r = await row(k).first('content');
      return r ? asBuffer(r.content) : undefined;
    },
    // The row stays (it is the message's record of the file); only its bytes go.
    async delete(k) {
      await row(k).update({ content: EMPTY });
    },
  };
}

/** Blobs for a store connection or transaction: the one implementation today is byteaBlobs. */
export type BlobsOf = (db: Knex | Knex.Transaction) => AttachmentBlobs;
