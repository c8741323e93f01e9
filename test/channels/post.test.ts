// The POST channel without PostgreSQL: a StoredMessage in, an Outcome out, the print ledger a fake of its own port.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPostChannel, type PrintStore } from '../../src/channels/post/post.js';
import type { StoredMessage } from '../../src/core/delivery.js';
import type { ManifestLedger, PrintItem } from '../../src/core/print.js';
import type { Certifier } from '../../src/documents/certify.js';

/** The PrintStore port over a Map, with the manifest lock as a promise chain. */
function memoryPrintStore() {
  const items = new Map<number, PrintItem>();
  const bytes = new Map<string, number>();
  let lock = Promise.resolve();
  const store: PrintStore = {
    async batchOf(messageId) {
      return items.get(messageId)?.batchKey;
    },
    async record(i) {
      const was = items.get(i.messageId);
      items.set(i.messageId, was ? { ...was, pageCount: i.pageCount, certified: i.certified } : { ...i, inManifest: false });
    },
    withManifest<T>(batchKey: string, write: (m: ManifestLedger) => Promise<T>): Promise<T> {
      const of = () => [...items.values()].filter((i) => i.batchKey === batchKey).sort((a, b) => a.messageId - b.messageId);
      const run = lock.then(() =>
        write({
          pending: async () => of().filter((i) => !i.inManifest),
          all: async () => of(),
          recordedBytes: async () => bytes.get(batchKey) ?? -1,
          async written(ids, n) {
            for (const id of ids) items.get(id)!.inManifest = true;
            bytes.set(batchKey, n);
          },
        }),
      );
      lock = run.then(() => undefined, () => undefined);
      return run;
    },
  };
  return { store, items };
}

const certifier = { sign: async (pdf: Buffer) => pdf } as unknown as Certifier;

function letter(id: number, over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id,
    clientId: 7,
    batchId: 'run-1',
    channel: 'POST',
    subject: `Letter ${id}`,
    textBody: 'Dear customer,\nyour contract was renewed.',
    htmlBody: null,
    recipientName: 'Kiss Anna',
    recipientPostalAddress: '1011 Budapest; Fő utca 1.',
    fromAddress: 'noreply@example.com',
    archivingExpected: false,
    certificationExpected: false,
    replyEnvelopeAttached: false,
    paymentSlipAttached: true,
    letterType: 'REGISTERED',
    properties: [],
    params: [],
    attachments: [],
    ...over,
  };
}

describe('POST channel (no database)', () => {
  let printDir: string;
  beforeEach(async () => {
    printDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hammy-post-'));
  });
  afterEach(() => fs.rm(printDir, { recursive: true, force: true }));

  const channel = (store: PrintStore) => createPostChannel({ store, printDir, certifier, sender: async () => ({ name: 'Demo Client', postalAddress: null }), documentTimeoutMs: 30000 });

  it('writes the letter, records its print item and answers with its file and page count', async () => {
    const { store, items } = memoryPrintStore();
    const out = await channel(store).deliver(letter(41));
    assert.equal(out.kind, 'sent');
    assert.ok(out.kind === 'sent');
    assert.equal(out.file, 'client7-run-1/41.pdf');
    assert.equal(out.pageCount, 1);
    const pdf = await fs.readFile(path.join(printDir, 'client7-run-1', '41.pdf'));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const item = items.get(41)!;
    assert.equal(item.batchKey, 'client7-run-1');
    assert.equal(item.recipientPostalAddress, '1011 Budapest\nFő utca 1.');
    assert.equal(item.letterType, 'REGISTERED');
    assert.equal(item.inManifest, true);
    const manifest = (await fs.readFile(path.join(printDir, 'client7-run-1', 'manifest.csv'), 'utf8')).trim().split('\n');
    assert.equal(manifest.length, 2);
    assert.match(manifest[1]!, /^41\.pdf;REGISTERED;false;true;1;Kiss Anna;1011 Budapest \| Fő utca 1\.;41;false$/);
  });

  it('appends one manifest line per letter of the batch', async () => {
    const { store } = memoryPrintStore();
    const post = channel(store);
    await Promise.all([post.deliver(letter(1)), post.deliver(letter(2)), post.deliver(letter(3))]);
    const lines = (await fs.readFile(path.join(printDir, 'client7-run-1', 'manifest.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(lines.slice(1).map((l) => l.split(';')[0]), ['1.pdf', '2.pdf', '3.pdf']);
  });

  it('keeps the batch an earlier attempt of the letter was recorded in', async () => {
    const { store } = memoryPrintStore();
    await store.record({ messageId: 5, clientId: 7, batchKey: 'client7-earlier', file: '5.pdf', letterType: 'NORMAL', replyEnvelopeAttached: false, paymentSlipAttached: false, pageCount: 1, recipientName: 'X', recipientPostalAddress: 'Y', certified: false });
    const out = await channel(store).deliver(letter(5));
    assert.ok(out.kind === 'sent');
    assert.equal(out.file, 'client7-earlier/5.pdf');
  });

  it('retries, keeping the file, when another message\'s file has the letter\'s name', async () => {
    const { store, items } = memoryPrintStore();
    await fs.mkdir(path.join(printDir, 'client7-run-1'), { recursive: true });
    await fs.writeFile(path.join(printDir, 'client7-run-1', '9.pdf'), 'another message');
    const out = await channel(store).deliver(letter(9));
    assert.equal(out.kind, 'retry');
    assert.ok(out.kind === 'retry');
    assert.match(out.reason, /^print outbox: 9\.pdf is there already/);
    assert.equal(await fs.readFile(path.join(printDir, 'client7-run-1', '9.pdf'), 'utf8'), 'another message');
    assert.equal(items.has(9), false);
  });

  it('a letter whose file was written but whose print item was not (a crash between the two) is written again, not refused', async () => {
    const { store, items } = memoryPrintStore();
    const crashing: PrintStore = { ...store, record: async () => Promise.reject(new Error('the process died here')) };
    await assert.rejects(channel(crashing).deliver(letter(11)));
    assert.equal(items.has(11), false, 'the first attempt left its file but no print item');
    const again = await channel(store).deliver(letter(11));
    assert.equal(again.kind, 'sent', JSON.stringify(again));
    assert.equal(items.has(11), true);
    // Another message with that id (an older database's), saying something else, is still kept.
    const out = await channel(memoryPrintStore().store).deliver(letter(11, { subject: 'something else' }));
    assert.equal(out.kind, 'retry');
  });

  it('fails a letter whose certification fails', async () => {
    const { store } = memoryPrintStore();
    const failing = { sign: async () => Promise.reject(new Error('no certificate')) } as unknown as Certifier;
    const post = createPostChannel({ store, printDir, certifier: failing, sender: async () => ({ name: 'Demo Client', postalAddress: null }), documentTimeoutMs: 30000 });
    const out = await post.deliver(letter(10, { certificationExpected: true }));
    assert.deepEqual({ kind: out.kind, reason: out.kind === 'failed' ? out.reason : '' }, { kind: 'failed', reason: 'certification of the letter failed' });
  });
});
