// Portal queries: every one takes the recipient id, so a message is only ever seen by its partnerRef.
import type { Knex } from 'knex';
import { asBuffer } from './send-store.js';

export type PortalMessage = { id: number; subject: string; textBody: string | null; htmlBody: string | null; createdAt: Date; readAt: Date | null };
export type PortalAttachment = { id: number; seq: number; fileName: string; size: number };

export function createPortalStore(knex: Knex) {
  const visible = (recipientId: string) =>
    knex('messages').where({ partner_ref: recipientId, channel: 'PORTAL' }).whereNotNull('published_at');
  const toMessage = (r: any): PortalMessage => ({
    id: Number(r.id),
    subject: r.subject,
    textBody: r.text_body,
    htmlBody: r.html_body,
    createdAt: r.created_at,
    readAt: r.read_at,
  });
  return {
    async message(recipientId: string, id: number): Promise<PortalMessage | undefined> {
      const r = await visible(recipientId).andWhere({ id }).first();
      return r ? toMessage(r) : undefined;
    },
    async list(recipientId: string, limit: number): Promise<PortalMessage[]> {
      return (await visible(recipientId).orderBy('id', 'desc').limit(limit)).map(toMessage);
    },
    async attachments(messageId: number): Promise<PortalAttachment[]> {
      const rows = await knex('attachments').where({ message_id: messageId }).orderBy('seq').select('id', 'seq', 'file_name', 'size');
      return rows.map((a) => ({ id: Number(a.id), seq: a.seq, fileName: a.file_name, size: a.size }));
    },
    async attachmentContent(recipientId: string, messageId: number, attachmentId: number): Promise<{ fileName: string; content: Buffer } | undefined> {
      const r = await knex('attachments as a')
        .join('messages as m', 'm.id', 'a.message_id')
        .where({ 'a.id': attachmentId, 'm.id': messageId, 'm.partner_ref': recipientId, 'm.channel': 'PORTAL' })
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
