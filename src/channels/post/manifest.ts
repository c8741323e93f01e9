// Print manifests: one per batch in PRINT_DIR, regenerated from print_items, serialised across processes.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { writeAtomic } from '../../documents/archive.js';

const COLUMNS = ['file', 'letterType', 'replyEnvelopeAttached', 'paymentSlipAttached', 'pageCount', 'recipientName', 'recipientPostalAddress', 'messageId', 'certified'];

function csvCell(v: unknown): string {
  const s = String(v ?? '');
  return /[";\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function manifestCsv(rows: Record<string, any>[]): string {
  const lines = rows.map((r) =>
    // Address lines joined on one line: one manifest line per letter, whatever reads it.
    [r.file, r.letter_type, r.reply_envelope_attached, r.payment_slip_attached, r.page_count, r.recipient_name, String(r.recipient_postal_address).split('\n').join(' | '), r.message_id, r.certified]
      .map(csvCell)
      .join(';'),
  );
  return [COLUMNS.join(';'), ...lines].join('\n') + '\n';
}

/**
 * Group commit: letters finishing together share one manifest write. A caller's promise resolves after a
 * write that started after its print_items row was committed, so its line is in the file before SENT.
 */
export function createManifestWriter(knex: Knex, printDir: string) {
  const state = new Map<string, { queued?: Promise<void>; running?: Promise<void> }>();

  async function write(batchKey: string) {
    await knex.transaction(async (trx) => {
      // Several gateways may write one batch: the lock keeps an older snapshot from replacing a newer one.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`manifest:${batchKey}`]);
      const rows = await trx('print_items').where({ batch_key: batchKey }).orderBy('message_id');
      const dir = path.join(printDir, batchKey);
      await fs.mkdir(dir, { recursive: true });
      await writeAtomic(path.join(dir, 'manifest.csv'), Buffer.from(manifestCsv(rows), 'utf8'));
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
