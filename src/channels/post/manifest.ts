// Print manifests: one per batch in PRINT_DIR, a line appended per letter from print_items, serialised across processes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Knex } from 'knex';
import { writeAtomic } from '../../documents/archive.js';

const COLUMNS = ['file', 'letterType', 'replyEnvelopeAttached', 'paymentSlipAttached', 'pageCount', 'recipientName', 'recipientPostalAddress', 'messageId', 'certified'];
// csv-stringify quotes a field holding the separator, a quote or a line break; booleans as words (its default is 1 and '').
const CSV = { delimiter: ';', cast: { boolean: (v: boolean) => String(v) } };

const fields = (r: Record<string, any>) =>
  // Address lines joined on one line: one manifest line per letter, whatever reads it.
  [r.file, r.letter_type, r.reply_envelope_attached, r.payment_slip_attached, r.page_count, r.recipient_name, String(r.recipient_postal_address).split('\n').join(' | '), r.message_id, r.certified];

const manifestLines = (rows: Record<string, any>[]) => stringify(rows.map(fields), CSV);

function manifestCsv(rows: Record<string, any>[]): string {
  return stringify([COLUMNS, ...rows.map(fields)], CSV);
}

const sizeOf = (file: string) => fs.stat(file).then((s) => s.size, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? -1 : Promise.reject(e)));

/**
 * Group commit: letters finishing together share one append. A caller's promise resolves after an append that
 * started after its print_items row was committed, so its line is in the file before SENT.
 *
 * The manifest grows by appends of whole lines (one write, then fsync), O(1) per letter. print_manifests keeps the
 * file's length at the last committed append: a longer file ends in an append whose commit failed (a crash), cut
 * off before the next; a missing or shorter one (or a batch from before appends) is written whole and renamed.
 */
export function createManifestWriter(knex: Knex, printDir: string) {
  const state = new Map<string, { queued?: Promise<void>; running?: Promise<void> }>();

  async function write(batchKey: string) {
    await knex.transaction(async (trx) => {
      // Several gateways may write one batch: the lock orders their appends.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`manifest:${batchKey}`]);
      const pending = await trx('print_items').where({ batch_key: batchKey, in_manifest: false }).orderBy('message_id');
      if (pending.length === 0) return;
      const dir = path.join(printDir, batchKey);
      const file = path.join(dir, 'manifest.csv');
      await fs.mkdir(dir, { recursive: true });
      const known = await trx('print_manifests').where({ batch_key: batchKey }).first('bytes');
      const recorded = known ? Number(known.bytes) : -1;
      const size = await sizeOf(file);
      let bytes: number;
      if (recorded < 0 || size < recorded) {
        const rows = await trx('print_items').where({ batch_key: batchKey }).orderBy('message_id');
        const all = Buffer.from(manifestCsv(rows), 'utf8');
        await writeAtomic(file, all);
        bytes = all.length;
        // The rows written, by id: a letter committed since is not in the file yet (each statement sees new commits).
        await trx('print_items').whereIn('message_id', rows.filter((r) => !r.in_manifest).map((r) => r.message_id)).update({ in_manifest: true });
      } else {
        const lines = Buffer.from(manifestLines(pending), 'utf8');
        const fh = await fs.open(file, 'r+');
        try {
          if (size > recorded) await fh.truncate(recorded);
          for (let at = 0; at < lines.length; ) at += (await fh.write(lines, at, lines.length - at, recorded + at)).bytesWritten;
          await fh.sync();
        } finally {
          await fh.close();
        }
        bytes = recorded + lines.length;
        await trx('print_items').whereIn('message_id', pending.map((r) => r.message_id)).update({ in_manifest: true });
      }
      await trx('print_manifests').insert({ batch_key: batchKey, bytes }).onConflict('batch_key').merge(['bytes']);
    });
  }

  return {
    flush(batchKey: string): Promise<void> {
      const s = state.get(batchKey) ?? {};
      state.set(batchKey, s);
      if (s.queued) return s.queued;
      const prev = s.running ?? Promise.resolve();
      const p: Promise<void> = prev
        .catch(() => undefined)
        .then(() => {
          s.queued = undefined;
          s.running = p;
          return write(batchKey);
        })
        .finally(() => {
          if (s.running === p) state.delete(batchKey);
        });
      s.queued = p;
      return p;
    },
  };
}
