// PORTAL channel: publishes the message for its recipient (partnerRef) and e-mails a notice without the content.
import type { StoredMessage } from '../../core/delivery.js';
import type { Channel, Outcome } from '../channel.js';

/** The notice says that something arrived, never what (SPEC §4: "an e-mail notice without the content"). */
export function noticeOf(m: StoredMessage): StoredMessage {
  return {
    ...m,
    subject: 'Új üzenete érkezett',
    textBody: `Kedves ${m.recipientName}!\n\nÚj üzenete érkezett, amelyet a portálon vagy az alkalmazásban olvashat el.\n\nEz egy automatikus értesítés, kérjük, ne válaszoljon rá.\n`,
    htmlBody: null,
    attachments: [],
    recipientEmailAddressCC: undefined,
    bccAddress: undefined,
  };
}

/** The worker publishes the message (records `published`), whatever the notice did; publishing again changes nothing. */
export function createPortalChannel(email: Channel): Channel {
  return {
    async deliver(m): Promise<Outcome> {
      if (!m.recipientEmailAddress) return { kind: 'sent', ref: 'published', published: true };
      const notice = await email.deliver(noticeOf(m));
      // A notice worth retrying retries the whole step; the message is published meanwhile.
      if (notice.kind === 'retry') return { ...notice, published: true };
      if (notice.kind === 'failed') return { kind: 'sent', ref: `published; notice failed: ${notice.reason}`, published: true };
      return { kind: 'sent', ref: 'published; notice sent', published: true };
    },
    async close() {},
  };
}
