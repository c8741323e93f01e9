// Template versions per client: listed, read, added as max(version)+1, switched on or off; never rewritten.
import type { Knex } from 'knex';
import type { NewTemplateVersion } from '../core/templates.js';

export type TemplateRow = {
  id: number;
  message_type: string;
  version: number;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  default_channel: string | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
};
const SUMMARY = ['id', 'message_type', 'version', 'default_channel', 'active', 'created_at', 'updated_at'];
const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

/** `changed` is told after every write, so cached template reads are dropped everywhere (lookup-cache.ts). */
export function createTemplateStore(knex: Knex, changed: () => Promise<void> = async () => undefined) {
  const own = (clientId: number) => knex('templates').where({ client_id: clientId });
  return {
    async list(clientId: number, messageType?: string): Promise<Omit<TemplateRow, 'subject' | 'text_body' | 'html_body'>[]> {
      const q = own(clientId).select(SUMMARY).orderBy([{ column: 'message_type' }, { column: 'version', order: 'desc' }]);
      return messageType === undefined ? q : q.andWhere({ message_type: messageType });
    },

    async get(clientId: number, messageType: string, version: number): Promise<TemplateRow | undefined> {
      return own(clientId).andWhere({ message_type: messageType, version }).first();
    },

    /**
     * Stores the next version. Two concurrent creates compute the same max+1; the unique key refuses the
     * second, which simply takes the number after it: versions are never overwritten (the render cache relies on it).
     */
    async create(clientId: number, t: NewTemplateVersion): Promise<TemplateRow> {
      for (let attempt = 0; ; attempt++) {
        try {
          const [row] = await knex('templates')
            .insert({
              client_id: clientId,
              message_type: t.messageType,
              version: knex.raw('(select coalesce(max(version), 0) + 1 from templates where client_id = ? and message_type = ?)', [clientId, t.messageType]),
              subject: t.subject,
              text_body: t.textBody,
              html_body: t.htmlBody,
              default_channel: t.defaultChannel,
              active: t.active,
            })
            .returning('*');
          await changed();
          return row;
        } catch (e) {
          if (!isUniqueViolation(e) || attempt >= 5) throw e;
        }
      }
    },

    /** Switches a version on or off; answers the row, or undefined when the client has no such version. */
    async setActive(clientId: number, messageType: string, version: number, active: boolean): Promise<TemplateRow | undefined> {
      const [row] = await own(clientId).andWhere({ message_type: messageType, version }).update({ active, updated_at: knex.fn.now() }).returning('*');
      if (row) await changed();
      return row;
    },
  };
}
export type TemplateStore = ReturnType<typeof createTemplateStore>;
