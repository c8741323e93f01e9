// DMS queries: every one takes the client id, so a client only ever finds its own documents.
import type { Knex } from 'knex';
import { asBuffer } from './rows.js';

export type DocumentQuery = { objectRef?: string; objectType?: string; documentType?: string; messageId?: number; metadata: Record<string, string>; limit: number; after?: number };

export function createDocumentStore(knex: Knex) {
  const columns = ['id', 'message_id', 'attachment_seq', 'file_name', 'content_type', 'size', 'document_type', 'object_type', 'object_ref', 'metadata', 'created_at'];
  return {
    async search(clientId: number, q: DocumentQuery) {
      const query = knex('dms_documents').where({ client_id: clientId }).select(columns).orderBy('id').limit(q.limit);
      if (q.objectRef !== undefined) query.andWhere({ object_ref: q.objectRef });
      if (q.objectType !== undefined) query.andWhere({ object_type: q.objectType });
      if (q.documentType !== undefined) query.andWhere({ document_type: q.documentType });
      if (q.messageId !== undefined) query.andWhere({ message_id: q.messageId });
      if (q.after !== undefined) query.andWhere('id', '>', q.after);
      if (Object.keys(q.metadata).length) query.andWhereRaw('metadata @> ?::jsonb', [JSON.stringify(q.metadata)]);
      return query;
    },
    async content(clientId: number, id: number) {
      const doc = await knex('dms_documents').where({ client_id: clientId, id }).first('file_name', 'content_type', 'content');
      return doc ? { ...doc, content: asBuffer(doc.content) } : undefined;
    },
  };
}
export type DocumentStore = ReturnType<typeof createDocumentStore>;
