// DMS search API: a client finds its archived documents by objectRef, documentType, objectType and metadata.
import { callerOf } from './caller.js';
import type { SendStore } from '../core/ports.js';
import { NotFound, ValidationError } from '../core/errors.js';
import type { DocumentStore } from '../store/documents.js';
import type { ApiRouter } from './context.js';

const BASE = '/hammy/json/send/v2/documents';

export function documentRoutes(router: ApiRouter, sendStore: SendStore, docs: DocumentStore) {
  // Authenticated as the send API is: the hash key, and the JWT for clients that have one.
  const client = callerOf(sendStore);

  router.get(BASE, async (ctx) => {
    const c = await client(ctx);
    const q = ctx.query as Record<string, string | string[] | undefined>;
    const repeated = Object.entries(q).filter(([, v]) => Array.isArray(v)).map(([k]) => ({ code: 1 as const, field: k, text: `${k} may be given once` }));
    if (repeated.length) throw new ValidationError(repeated);
    const one = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
    // metadata filters: meta.SZERZODO_NEVE=Béla (or meta[SZERZODO_NEVE]=Béla)
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) {
      const m = /^meta(?:\.|\[)([^\]]+)\]?$/.exec(k);
      if (m && typeof v === 'string') metadata[m[1]!] = v;
    }
    const limit = Number(one('limit') ?? 50);
    const after = one('after') !== undefined ? Number(one('after')) : undefined;
    const messageId = one('messageId') !== undefined ? Number(one('messageId')) : undefined;
    const bad = [
      ...(!Number.isInteger(limit) || limit < 1 || limit > 500 ? [{ code: 1 as const, field: 'limit', text: 'limit must be an integer from 1 to 500' }] : []),
      ...(after !== undefined && !Number.isSafeInteger(after) ? [{ code: 1 as const, field: 'after', text: 'after must be a document id' }] : []),
      ...(messageId !== undefined && !Number.isSafeInteger(messageId) ? [{ code: 1 as const, field: 'messageId', text: 'messageId must be an integer' }] : []),
    ];
    if (bad.length) throw new ValidationError(bad);
    const rows = await docs.search(c.id, { objectRef: one('objectRef'), objectType: one('objectType'), documentType: one('documentType'), messageId, metadata, limit, after });
    ctx.type = 'application/vnd.api+json';
    ctx.body = {
      data: rows.map((r) => ({
        type: 'documents',
        id: String(r.id),
        attributes: {
          messageId: Number(r.message_id),
          attachmentSeq: r.attachment_seq < 0 ? null : r.attachment_seq,
          fileName: r.file_name,
          contentType: r.content_type,
          size: r.size,
          documentType: r.document_type,
          objectType: r.object_type,
          objectRef: r.object_ref,
          metadata: r.metadata,
          archivedAt: r.created_at,
        },
        links: { content: `${BASE}/${r.id}/content` },
      })),
      meta: { count: rows.length, next: rows.length === limit ? String(rows.at(-1)!.id) : null },
    };
  });

  router.get(`${BASE}/:id/content`, async (ctx) => {
    const c = await client(ctx);
    const id = Number(ctx.params.id);
    const doc = Number.isSafeInteger(id) ? await docs.content(c.id, id) : undefined;
    if (!doc) throw new NotFound(`document ${ctx.params.id} not found`, 'id');
    ctx.type = doc.content_type;
    ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(doc.file_name)}`);
    ctx.body = doc.content;
  });
}
