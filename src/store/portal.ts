// Portal queries: every one takes the key's client first, then the recipient (partnerRef), then the message's
// random remote-content id; a message is only ever seen by its own client's platform, for its own recipient.
import type { Knex } from 'knex';
import { asBuffer } from './rows.js';

export type PortalMessage = { id: number; remoteContentId: string; subject: string; textBody: string | null; htmlBody: string | null; createdAt: Date; readAt: Date | null };
export type PortalAttachment = { seq: number; fileName: string; size: number };

export function createPortalStore(knex: Knex) {
  const visible = (clientId: number, recipientId: string) =>
    knex('messages').where({ client_id: clientId, partner_ref: recipientId, channel: 'PORTAL' }).whereNotNull('published_at');
  const toMessage = (r: any): PortalMessage => ({
    id: Number(r.id),
    remoteContentId: r.remote_content_id,
    subject: r.subject,
    textBody: r.text_body,
    htmlBody: r.html_body,
    createdAt: r.created_at,
    readAt: r.read_at,
  });
  return {
    async message(clientId: number, recipientId: string, remoteContentId: string): Promise<PortalMessage | undefined> {
      const r = await visible(clientId, recipientId).andWhere({ remote_content_id: remoteContentId }).first();
      return r ? toMessage(r) : undefined;
    },
    async list(clientId: number, recipientId: string, limit: number): Promise<PortalMessage[]> {
      return (await visible(clientId, recipientId).orderBy('id', 'desc').limit(limit)).map(toMessage);
    },
    /** The attachments of a message already found with `message` (so within the client and recipient). */
    async attachments(messageId: number): Promise<PortalAttachment[]> {
      const rows = await knex('attachments').where({ message_id: messageId }).orderBy('seq').select('seq', 'file_name', 'size');
      return rows.map((a) => ({ seq: a.seq, fileName: a.file_name, size: a.size }));
    },
    /** One attachment, by its place in the message: the message is found by client, recipient and remote id first. */
    async attachmentContent(clientId: number, recipientId: string, remoteContentId: string, seq: number): Promise<{ fileName: string; content: Buffer } | undefined> {
      const r = await knex('attachments as a')
        .join('messages as m', 'm.id', 'a.message_id')
        .where({ 'm.client_id': clientId, 'm.partner_ref': recipientId, 'm.channel': 'PORTAL', 'm.remote_content_id': remoteContentId, 'a.seq': seq })
        .whereNotNull('m.published_at')
        .first('a.file_name', 'a.content');
      return r ? { fileName: r.file_name, content: asBuffer(r.content) } : undefined;
    },
    /** The first fetch records READ (SPEC §5); later fetches change nothing. */
    async markRead(messageId: number): Promise<boolean> {
      return knex.transaction(async (trx) => {
        const n = await trx('messages').where({ id: messageId }).whereNull('read_at').update({ read_at: trx.fn.now(), status: 'READ', updated_at: trx.fn.now() });
        if (n > 0) await trx('message_events').insert({ message_id: messageId, status: 'READ', reason: 'fetched through the portal' });
        return n > 0;
      });
    },
  };
}
export type PortalStore = ReturnType<typeof createPortalStore>;
