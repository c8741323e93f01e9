// POST channel: a print-ready PDF letter per message in PRINT_DIR/<batch>/, and its line in the batch manifest.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { FileTaken, writeNew } from '../../documents/archive.js';
import { DeadlineError, withDeadline } from '../../core/deadline.js';
import type { Certifier } from '../../documents/certify.js';
import type { LetterInput } from '../../documents/letter.js';
import type { DeliveryMessage } from '../../store/jobs.js';
import { codeOf, type Channel, type Outcome } from '../channel.js';
import { createManifestWriter } from './manifest.js';
import { htmlToText } from '../../documents/html-text.js';

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);

/** The print run: the client and its batchId, or a daily run without one. */
export function batchKey(m: Pick<DeliveryMessage, 'clientId' | 'batchId'>, now = new Date()): string {
  return `client${m.clientId}-${m.batchId ? safe(m.batchId) : `daily-${now.toISOString().slice(0, 10)}`}`;
}

/** documentTimeoutMs: the deadline of making, signing and writing a letter; past it, the letter is retried (SMTP 4xx-like). */
export function createPostChannel(o: { knex: Knex; printDir: string; certifier: Certifier; sender: (clientId: number) => Promise<LetterInput['sender']>; documentTimeoutMs: number }): Channel {
  const within = <T>(work: Promise<T>, what: string) => withDeadline(work, o.documentTimeoutMs, what);
  const late = (e: unknown): Outcome | undefined => (e instanceof DeadlineError ? { kind: 'retry', reason: `timeout: ${e.message}` } : undefined);
  const manifests = createManifestWriter(o.knex, o.printDir);
  return {
    async deliver(m): Promise<Outcome> {
      // A re-run after a crash keeps the batch the letter was first written to.
      const existing = await o.knex('print_items').where({ message_id: m.id }).first();
      const key = existing?.batch_key ?? batchKey(m);
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
        // An earlier attempt of this letter that got as far as its print item wrote the file there; else it is another's.
        const mine = async () => Boolean(await o.knex('print_items').where({ message_id: m.id, batch_key: key }).first());
        await within(
          fs.mkdir(dir, { recursive: true }).then(() => writeNew(path.join(dir, file), pdf, mine)),
          'writing the letter',
        );
      } catch (e) {
        if (e instanceof FileTaken) return { kind: 'retry', reason: `print outbox: ${e.message}` };
        return late(e) ?? { kind: 'retry', reason: `print outbox not writable${codeOf(e)}`, detail: e };
      }
      await o.knex('print_items')
        .insert({
          message_id: m.id,
          client_id: m.clientId,
          batch_key: key,
          file,
          letter_type: input.letterType,
          reply_envelope_attached: m.replyEnvelopeAttached,
          payment_slip_attached: m.paymentSlipAttached,
          page_count: letter.pageCount,
          recipient_name: m.recipientName,
          recipient_postal_address: input.recipientPostalAddress.replace(/\s*;\s*/g, '\n'),
          certified: m.certificationExpected,
        })
        .onConflict('message_id')
        .merge(['page_count', 'certified']);
      try {
        await within(manifests.flush(key), 'writing the manifest');
      } catch (e) {
        return late(e) ?? { kind: 'retry', reason: `print manifest not written${codeOf(e)}`, detail: e };
      }
      return { kind: 'sent', ref: `print ${key}/${file}, ${letter.pageCount} pages` };
    },
    async close() {},
  };
}
