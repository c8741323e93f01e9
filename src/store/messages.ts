// Status, batch and history queries (SPEC §5): every one takes the client id, so a client only sees its own messages.
import type { Knex } from 'knex';

/** A message is final once its delivery job is gone: the worker deletes it with the SENT/ARCHIVED/FAILED event. */
const FINAL = 'not exists (select 1 from jobs where jobs.message_id = messages.id) as final';
const COLUMNS = [
  'id', 'status', 'channel', 'request_id', 'batch_id', 'partner_ref', 'message_type', 'message_type_version', 'subject',
  'recipient_name', 'recipient_email_address', 'recipient_postal_address', 'user_name', 'related_message_id',
  'intake', 'origin', 'issuer', 'correlation_id', 'created_at', 'updated_at', 'published_at', 'read_at', 'remote_content_id',
];

export type MessageStatusRow = {
  id: number;
  status: string;
  channel: string;
  request_id: string | null;
  batch_id: string | null;
  partner_ref: string | null;
  message_type: string | null;
  message_type_version: number | null;
  subject: string;
  recipient_name: string;
  recipient_email_address: string | null;
  recipient_postal_address: string | null;
  user_name: string | null;
  related_message_id: number | null;
  intake: string;
  origin: string | null;
  issuer: string | null;
  correlation_id: string | null;
  created_at: Date;
  updated_at: Date;
  published_at: Date | null;
  read_at: Date | null;
  remote_content_id: string;
  final: boolean;
};
export type EventRow = { status: string; reason: string | null; created_at: Date };

/** Newest first: `after` is the id of the last row of the previous page. */
export type Page = { size: number; after?: number };
export type HistoryFilter = {
  partnerRef?: string;
  recipientEmailAddress?: string;
  batchId?: string;
  requestId?: string;
  status?: string;
  from?: Date;
  to?: Date;
};

export function createMessageQueries(knex: Knex) {
  const own = (clientId: number) => knex('messages').where('messages.client_id', clientId);
  /** One row more than the page, so the caller knows whether a next page exists without counting. */
  const paged = (q: Knex.QueryBuilder, page: Page) => {
    if (page.after !== undefined) q.andWhere('messages.id', '<', page.after);
    return q.select(COLUMNS.map((c) => `messages.${c}`)).select(knex.raw(FINAL)).orderBy('messages.id', 'desc').limit(page.size + 1);
  };

  return {
    async message(clientId: number, id: number): Promise<MessageStatusRow | undefined> {
      return own(clientId).andWhere('messages.id', id).select(COLUMNS.map((c) => `messages.${c}`)).select(knex.raw(FINAL)).first();
    },

    /** The timeline of a message the caller has already found with `message` (so it is the client's own). */
    async events(clientId: number, id: number): Promise<EventRow[]> {
      return knex('message_events as e')
        .join('messages as m', 'm.id', 'e.message_id')
        .where({ 'm.client_id': clientId, 'e.message_id': id })
        .orderBy('e.id')
        .select('e.status', 'e.reason', 'e.created_at');
    },

    async history(clientId: number, f: HistoryFilter, page: Page): Promise<MessageStatusRow[]> {
      const q = own(clientId);
      if (f.partnerRef !== undefined) q.andWhere('messages.partner_ref', f.partnerRef);
      if (f.recipientEmailAddress !== undefined) q.andWhere('messages.recipient_email_address', f.recipientEmailAddress);
      if (f.batchId !== undefined) q.andWhere('messages.batch_id', f.batchId);
      if (f.requestId !== undefined) q.andWhere('messages.request_id', f.requestId);
      if (f.status !== undefined) q.andWhere('messages.status', f.status);
      if (f.from !== undefined) q.andWhere('messages.created_at', '>=', f.from);
      if (f.to !== undefined) q.andWhere('messages.created_at', '<', f.to);
      return paged(q, page);
    },

    /** Counts per status over the whole batch, and how many messages still wait for delivery. */
    async batchCounts(clientId: number, batchId: string): Promise<{ total: number; pending: number; byStatus: Record<string, number> }> {
      const rows: { status: string; n: number; pending: number }[] = await own(clientId)
        .andWhere('messages.batch_id', batchId)
        .groupBy('messages.status')
        .select('messages.status')
        .select(knex.raw('count(*)::int as n'))
        .select(knex.raw('count(*) filter (where exists (select 1 from jobs where jobs.message_id = messages.id))::int as pending'));
      const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      return { total: rows.reduce((s, r) => s + r.n, 0), pending: rows.reduce((s, r) => s + r.pending, 0), byStatus };
    },

    async batchMessages(clientId: number, batchId: string, page: Page): Promise<MessageStatusRow[]> {
      return paged(own(clientId).andWhere('messages.batch_id', batchId), page);
    },
  };
}
export type MessageQueries = ReturnType<typeof createMessageQueries>;
