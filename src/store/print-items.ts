// The POST channel's print ledger: print_items (a row per letter in the outbox) and print_manifests (each manifest's
// committed length), with the lock that orders manifest appends across gateways.
import type { Knex } from 'knex';
import type { ManifestLedger, PrintItem } from '../core/print.js';

type Row = Record<string, any>;

const itemFromRow = (r: Row): PrintItem => ({
  messageId: Number(r.message_id),
  clientId: r.client_id,
  batchKey: r.batch_key,
  file: r.file,
  letterType: r.letter_type,
  replyEnvelopeAttached: r.reply_envelope_attached,
  paymentSlipAttached: r.payment_slip_attached,
  pageCount: r.page_count,
  recipientName: r.recipient_name,
  recipientPostalAddress: r.recipient_postal_address,
  certified: r.certified,
  inManifest: r.in_manifest,
});

export function createPrintLedger(knex: Knex) {
  return {
    async batchOf(messageId: number): Promise<string | undefined> {
      return (await knex('print_items').where({ message_id: messageId }).first('batch_key'))?.batch_key;
    },

    /** A re-run of a letter (signed this time, another page count) updates its row. */
    async record(i: PrintItem): Promise<void> {
      await knex('print_items')
        .insert({
          message_id: i.messageId,
          client_id: i.clientId,
          batch_key: i.batchKey,
          file: i.file,
          letter_type: i.letterType,
          reply_envelope_attached: i.replyEnvelopeAttached,
          payment_slip_attached: i.paymentSlipAttached,
          page_count: i.pageCount,
          recipient_name: i.recipientName,
          recipient_postal_address: i.recipientPostalAddress,
          certified: i.certified,
        })
        .onConflict('message_id')
        .merge(['page_count', 'certified']);
    },

    /** Runs `write` in one transaction holding the batch's manifest lock: several gateways may write one batch. */
    async withManifest<T>(batchKey: string, write: (m: ManifestLedger) => Promise<T>): Promise<T> {
      return knex.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`manifest:${batchKey}`]);
        const items = (q: Knex.QueryBuilder) => q.orderBy('message_id').then((rows: Row[]) => rows.map(itemFromRow));
        return write({
          pending: () => items(trx('print_items').where({ batch_key: batchKey, in_manifest: false })),
          all: () => items(trx('print_items').where({ batch_key: batchKey })),
          async recordedBytes() {
            const known = await trx('print_manifests').where({ batch_key: batchKey }).first('bytes');
            return known ? Number(known.bytes) : -1;
          },
          async written(messageIds, bytes) {
            await trx('print_items').whereIn('message_id', messageIds).update({ in_manifest: true });
            await trx('print_manifests').insert({ batch_key: batchKey, bytes }).onConflict('batch_key').merge(['bytes']);
          },
        });
      });
    },
  };
}
