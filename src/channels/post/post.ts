// POST channel: a print-ready PDF letter per message in PRINT_DIR/<batch>/, and its line in the batch manifest.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FileTaken, writeNew } from '../../documents/archive.js';
import { lateOutcome, withDeadline } from '../../core/deadline.js';
import type { Certifier } from '../../documents/certify.js';
import type { LetterInput } from '../../documents/letter.js';
import type { StoredMessage } from '../../core/delivery.js';
import { codeOf, type Channel, type Outcome } from '../channel.js';
import { createManifestWriter, type ManifestStore } from './manifest.js';
import type { PrintItem } from '../../core/print.js';
import { htmlToText } from '../../documents/html-text.js';

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);

/** The print run: the client and its batchId, or a daily run without one. */
export function batchKey(m: Pick<StoredMessage, 'clientId' | 'batchId'>, now = new Date()): string {
  return `client${m.clientId}-${m.batchId ? safe(m.batchId) : `daily-${now.toISOString().slice(0, 10)}`}`;
}

/** What the POST channel asks of the store: where a letter was recorded, recording it, and the manifests. */
export interface PrintStore extends ManifestStore {
  /** The batch an earlier attempt of this letter was recorded in. */
  batchOf(messageId: number): Promise<string | undefined>;
  record(item: PrintItem): Promise<void>;
}

/**
 * What a letter is marked with: its message and what it says. A file of an older database that has this message's
 * id is another message's unless it says the same (then replacing it loses nothing).
 */
function letterMark(m: StoredMessage): string {
  const h = createHash('sha256').update(JSON.stringify([m.id, m.clientId, m.subject, m.textBody, m.htmlBody, m.recipientName, m.recipientPostalAddress]));
  return `${m.id}:${h.digest('base64url').slice(0, 22)}`;
}

/** documentTimeoutMs: the deadline of making, signing and writing a letter; past it, the letter is retried (SMTP 4xx-like). */
export function createPostChannel(o: { store: PrintStore; printDir: string; certifier: Certifier; sender: (clientId: number) => Promise<LetterInput['sender']>; documentTimeoutMs: number }): Channel {
  const within = <T>(work: Promise<T>, what: string) => withDeadline(work, o.documentTimeoutMs, what);
  const late = lateOutcome;
  const manifests = createManifestWriter(o.store, o.printDir);
  const letterMarkOfFile = async (pdf: Buffer) => (await import('../../documents/letter.js')).letterMarkOf(pdf);
  return {
    async deliver(m): Promise<Outcome> {
      // A re-run after a crash keeps the batch the letter was first written to.
      const key = (await o.store.batchOf(m.id)) ?? batchKey(m);
      const input: LetterInput = {
        messageId: m.id,
        sender: await o.sender(m.clientId),
        recipientName: m.recipientName,
        recipientPostalAddress: m.recipientPostalAddress ?? '',
        letterType: m.letterType ?? 'NORMAL',
        date: new Date(),
        subject: m.subject,
        body: m.textBody ?? htmlToText(m.htmlBody ?? ''),
        attachments: m.attachments.map((a) => ({ fileName: a.fileName, content: a.content })),
        mark: letterMark(m),
      };
      let letter: { pdf: Buffer; pageCount: number };
      try {
        // pdf-lib loads with the first letter, not at start.
        const { makeLetterPdf } = await import('../../documents/letter.js');
        letter = await within(makeLetterPdf(input), 'making the letter');
      } catch (e) {
        return late(e) ?? { kind: 'failed', reason: 'the letter PDF could not be made', detail: e };
      }
      let pdf = letter.pdf;
      if (m.certificationExpected) {
        try {
          pdf = await within(o.certifier.sign(pdf), 'signing the letter');
        } catch (e) {
          return late(e) ?? { kind: 'failed', reason: 'certification of the letter failed', detail: e };
        }
      }
      const file = `${m.id}.pdf`;
      try {
        const dir = path.join(o.printDir, key);
        // The file of an earlier attempt of this letter (one that got as far as its print item, or one that crashed before
        // it) is replaced; another message's (an older database's) is kept.
        const mine = async (existing: Buffer) => (await o.store.batchOf(m.id)) === key || (await letterMarkOfFile(existing)) === input.mark;
        await within(
          fs.mkdir(dir, { recursive: true }).then(() => writeNew(path.join(dir, file), pdf, mine)),
          'writing the letter',
        );
      } catch (e) {
        if (e instanceof FileTaken) return { kind: 'retry', reason: `print outbox: ${e.message}` };
        return late(e) ?? { kind: 'retry', reason: `print outbox not writable${codeOf(e)}`, detail: e };
      }
      await o.store.record({
        messageId: m.id,
        clientId: m.clientId,
        batchKey: key,
        file,
        letterType: input.letterType,
        replyEnvelopeAttached: m.replyEnvelopeAttached,
        paymentSlipAttached: m.paymentSlipAttached,
        pageCount: letter.pageCount,
        recipientName: m.recipientName,
        recipientPostalAddress: input.recipientPostalAddress.replace(/\s*;\s*/g, '\n'),
        certified: m.certificationExpected,
      });
      try {
        await within(manifests.flush(key), 'writing the manifest');
      } catch (e) {
        return late(e) ?? { kind: 'retry', reason: `print manifest not written${codeOf(e)}`, detail: e };
      }
      return { kind: 'sent', ref: `print ${key}/${file}, ${letter.pageCount} pages`, file: `${key}/${file}`, pageCount: letter.pageCount };
    },
    async close() {},
  };
}
