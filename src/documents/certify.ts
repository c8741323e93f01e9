// Certification (SPEC §4 step 5): PDFs signed with the configured certificate before archiving and delivery.
import type { StoredMessage } from '../core/delivery.js';
import type { NewAttachment } from '../core/ports.js';
import { htmlToText } from './html-text.js';
import type { SigningCertificate } from './signing.js';

// pdf-lib and the signing stack load on first use: a start without certified messages never pays for them.
const signing = () => import('./signing.js');
const letters = () => import('./letter.js');

export type CertifyResult = { ok: true; note?: string } | { ok: false; reason: string; detail?: unknown };

/** What certification asks of the store: keeping the signed bytes, so a re-run skips what is signed. */
export interface SignedAttachments {
  /** The attachment at `seq` now holds these signed bytes. */
  replace(messageId: number, seq: number, signed: Buffer): Promise<void>;
  /** A new signed attachment at `seq` (the message's content as a PDF); one there already is kept. */
  add(messageId: number, seq: number, a: NewAttachment): Promise<void>;
}

export function createCertifier(store: SignedAttachments, cert: () => Promise<SigningCertificate>, signer: { name: string; location: string; contactInfo: string }) {
  const sign = async (pdf: Buffer) => (await signing()).signPdf(pdf, await cert(), { reason: 'Hitelesített dokumentum (Hammy)', ...signer });
  const isSigningError = async (e: unknown) => e instanceof (await signing()).SigningError;

  return {
    /**
     * Signs every attachment that asks for it and is not signed yet, storing the signed bytes so a re-run
     * skips it. A message with certificationExpected (other than POST, whose letter is signed whole) gets
     * its rendered content as a signed PDF attachment. Mutates `m` to carry what was stored.
     */
    async certify(m: StoredMessage): Promise<CertifyResult> {
      const skipped: string[] = [];
      for (const [seq, a] of m.attachments.entries()) {
        if (!a.certificationExpected || a.certified) continue;
        try {
          const signed = await sign(a.content);
          await store.replace(m.id, seq, signed);
          a.content = signed;
          a.certified = true;
        } catch (e) {
          const reason = (await isSigningError(e)) ? (e as Error).message : 'signing failed';
          // SPEC §4 step 5: a POST letter may still carry an attachment that allows going uncertified.
          if (m.channel === 'POST' && a.postableWithoutCertificate) skipped.push(`${a.fileName}: ${reason}`);
          else return { ok: false, reason: `certification of ${a.fileName} failed: ${reason}`, detail: e };
        }
      }
      if (m.certificationExpected && m.channel !== 'POST' && !m.attachments.some((a) => a.fileName === messagePdfName(m))) {
        try {
          const signed = await sign(await (await letters()).textToPdf(m.subject, m.textBody ?? htmlToText(m.htmlBody ?? '')));
          const seq = m.attachments.length;
          const att = { fileName: messagePdfName(m), content: signed, archivingExpected: m.archivingExpected, certificationExpected: true, deleteSourceExpected: false, postableWithoutCertificate: false, properties: [], certified: true };
          await store.add(m.id, seq, att);
          m.attachments.push(att);
        } catch (e) {
          return { ok: false, reason: `certification of the message failed: ${(await isSigningError(e)) ? (e as Error).message : 'signing failed'}`, detail: e };
        }
      }
      return { ok: true, note: skipped.length ? `sent without certificate: ${skipped.join('; ')}` : undefined };
    },
    sign,
  };
}
export type Certifier = ReturnType<typeof createCertifier>;

export const messagePdfName = (m: { id: number }) => `message-${m.id}.pdf`;
