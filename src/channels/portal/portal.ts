// PORTAL channel: publishes the message for its recipient (partnerRef) and e-mails a notice without the content.
import type { Knex } from 'knex';
import type { DeliveryMessage } from '../../store/jobs.js';
import type { Channel, Outcome } from '../channel.js';

/** The notice says that something arrived, never what (SPEC §4: "an e-mail notice without the content"). */
export function noticeOf(m: DeliveryMessage): DeliveryMessage {
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

export function createPortalChannel(knex: Knex, email: Channel): Channel {
  return {
    async deliver(m): Promise<Outcome> {
      await knex('messages').where({ id: m.id }).whereNull('published_at').update({ published_at: knex.fn.now() });
      if (!m.recipientEmailAddress) return { kind: 'sent', ref: 'published' };
      const notice = await email.deliver(noticeOf(m));
      // Publishing is idempotent, so a notice worth retrying retries the whole step.
      if (notice.kind === 'retry') return notice;
      if (notice.kind === 'failed') return { kind: 'sent', ref: `published; notice failed: ${notice.reason}` };
      return { kind: 'sent', ref: 'published; notice sent' };
    },
    async close() {},
  };
}
