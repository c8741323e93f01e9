// Print manifests: one per batch in PRINT_DIR, a line appended per letter from print_items, serialised across processes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { ManifestLedger, PrintItem } from '../../core/print.js';
import { writeAtomic } from '../../documents/archive.js';

const COLUMNS = ['file', 'letterType', 'replyEnvelopeAttached', 'paymentSlipAttached', 'pageCount', 'recipientName', 'recipientPostalAddress', 'messageId', 'certified'];
// csv-stringify quotes a field holding the separator, a quote or a line break; booleans as words (its default is 1 and '').
const CSV = { delimiter: ';', cast: { boolean: (v: boolean) => String(v) } };

const fields = (r: PrintItem) =>
  // Address lines joined on one line: one manifest line per letter, whatever reads it.
  [r.file, r.letterType, r.replyEnvelopeAttached, r.paymentSlipAttached, r.pageCount, r.recipientName, String(r.recipientPostalAddress).split('\n').join(' | '), r.messageId, r.certified];

const manifestLines = (rows: PrintItem[]) => stringify(rows.map(fields), CSV);

function manifestCsv(rows: PrintItem[]): string {
  return stringify([COLUMNS, ...rows.map(fields)], CSV);
}

const sizeOf = (file: string) => fs.stat(file).then((s) => s.size, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? -1 : Promise.reject(e)));

/** The store's side of the manifests: the batch's lock, its letters, and the file length last committed. */
export interface ManifestStore {
  withManifest<T>(batchKey: string, write: (m: ManifestLedger) => Promise<T>): Promise<T>;
}

/**
 * Group commit: letters finishing together share one append. A caller's promise resolves after an append that
 * started after its print_items row was committed, so its line is in the file before SENT.
 *
 * The manifest grows by appends of whole lines (one write, then fsync), O(1) per letter. print_manifests keeps the
 * file's length at the last committed append: a longer file ends in an append whose commit failed (a crash), cut
 * off before the next; a missing or shorter one (or a batch from before appends) is written whole and renamed.
 */
export function createManifestWriter(store: ManifestStore, printDir: string) {
  const state = new Map<string, { queued?: Promise<void>; running?: Promise<void> }>();

  async function write(batchKey: string) {
    await store.withManifest(batchKey, async (ledger) => {
      const pending = await ledger.pending();
      if (pending.length === 0) return;
      const dir = path.join(printDir, batchKey);
      const file = path.join(dir, 'manifest.csv');
      await fs.mkdir(dir, { recursive: true });
      const recorded = await ledger.recordedBytes();
      const size = await sizeOf(file);
      if (recorded < 0 || size < recorded) {
        const rows = await ledger.all();
        const all = Buffer.from(manifestCsv(rows), 'utf8');
        await writeAtomic(file, all);
        // The rows written, by id: a letter committed since is not in the file yet (each statement sees new commits).
        await ledger.written(rows.filter((r) => !r.inManifest).map((r) => r.messageId), all.length);
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
        await ledger.written(pending.map((r) => r.messageId), recorded + lines.length);
      }
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
