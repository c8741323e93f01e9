// Status, batch and history API (SPEC §5) in JSON:API: what became of a client's messages, scoped to that client.
import { NotFound, parameterIssue } from '../core/errors.js';
import type { SendStore } from '../core/ports.js';
import type { EventRow, MessageQueries, MessageStatusRow } from '../store/messages.js';
import { callerOf } from './caller.js';
import type { ApiRouter } from './context.js';
import { JSONAPI } from '../adapters/forms/jsonapi.js';
import { pageOf, QueryReader } from './params.js';

export const BASE = '/hammy/json/send/v2';
export const STATUSES = ['RECEIVED', 'QUEUED', 'RETRYING', 'SENT', 'DELIVERED', 'READ', 'FAILED', 'ARCHIVED'] as const;
const batchPath = (batchId: string) => `${BASE}/batches/${encodeURIComponent(batchId)}`;

export function messageResource(r: MessageStatusRow, events?: EventRow[]) {
  const relationships: Record<string, unknown> = {};
  if (r.batch_id !== null) relationships.batch = { data: { type: 'batches', id: r.batch_id }, links: { related: batchPath(r.batch_id) } };
  if (r.related_message_id !== null) {
    relationships.relatedMessage = { data: { type: 'messages', id: String(r.related_message_id) }, links: { related: `${BASE}/messages/${r.related_message_id}` } };
  }
  return {
    type: 'messages',
    id: String(r.id),
    attributes: {
      status: r.status,
      final: r.final,
      channel: r.channel,
      messageType: r.message_type,
      messageTypeVersion: r.message_type_version,
      requestId: r.request_id,
      batchId: r.batch_id,
      partnerRef: r.partner_ref,
      subject: r.subject,
      recipientName: r.recipient_name,
      recipientEmailAddress: r.recipient_email_address,
      recipientPostalAddress: r.recipient_postal_address,
      userName: r.user_name,
      relatedMessageId: r.related_message_id,
      intake: r.intake,
      origin: r.origin,
      issuer: r.issuer,
      correlationId: r.correlation_id,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      publishedAt: r.published_at,
      readAt: r.read_at,
      // The id the portal remote-content API knows a PORTAL message by (never the messageId, which is enumerable).
      remoteContentId: r.channel === 'PORTAL' ? r.remote_content_id : null,
      ...(events ? { events: events.map((e) => ({ status: e.status, reason: e.reason, createdAt: e.created_at })) } : {}),
    },
    ...(Object.keys(relationships).length ? { relationships } : {}),
    links: { self: `${BASE}/messages/${r.id}` },
  };
}

/** A path segment that is no message id names no message: 404, like documents and the portal. */
function messageIdOf(raw: string): number {
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : 0;
  if (id < 1) throw new NotFound(`message ${raw} not found`);
  return id;
}

export function statusRoutes(router: ApiRouter, sendStore: SendStore, messages: MessageQueries) {
  const caller = callerOf(sendStore);

  router.get(`${BASE}/messages/:messageId`, async (ctx) => {
    const client = await caller(ctx);
    const id = messageIdOf(ctx.params.messageId!);
    // Another client's message is a 404 exactly like a missing one: existence never leaks (SPEC §5).
    const row = await messages.message(client.id, id);
    if (!row) throw new NotFound(`message ${id} not found`);
    ctx.type = JSONAPI;
    ctx.body = { data: messageResource(row, await messages.events(client.id, id)) };
  });

  router.get(`${BASE}/messages`, async (ctx) => {
    const client = await caller(ctx);
    const q = new QueryReader(ctx.query);
    const filter = {
      partnerRef: q.string('partnerRef', 100),
      recipientEmailAddress: q.string('recipientEmailAddress', 100),
      batchId: q.string('batchId', 100),
      requestId: q.string('requestId', 150),
      status: q.oneOf('status', STATUSES),
      from: q.date('from'),
      to: q.date('to'),
    };
    const page = q.page();
    if (filter.from && filter.to && filter.from >= filter.to) q.issues.push(parameterIssue('to', 'to must be later than from'));
    q.check();
    const { items, links } = pageOf(await messages.history(client.id, filter, page), page.size, ctx.path, ctx.querystring);
    ctx.type = JSONAPI;
    ctx.body = { data: items.map((r) => messageResource(r)), links, meta: { page: { size: page.size } } };
  });

  router.get(`${BASE}/batches/:batchId`, async (ctx) => {
    const client = await caller(ctx);
    const batchId = ctx.params.batchId!;
    const q = new QueryReader(ctx.query);
    const page = q.page();
    q.check();
    const counts = await messages.batchCounts(client.id, batchId);
    if (counts.total === 0) throw new NotFound(`batch ${batchId} not found`, 'batchId');
    const { items, links } = pageOf(await messages.batchMessages(client.id, batchId, page), page.size, ctx.path, ctx.querystring);
    ctx.type = JSONAPI;
    ctx.body = {
      data: {
        type: 'batches',
        id: batchId,
        attributes: { total: counts.total, pending: counts.pending, final: counts.pending === 0, counts: counts.byStatus },
        relationships: {
          // This page of the batch's messages; every message of it is listed by the history filtered by batchId.
          messages: {
            data: items.map((r) => ({ type: 'messages', id: String(r.id) })),
            links: { related: `${BASE}/messages?batchId=${encodeURIComponent(batchId)}`, next: links.next },
          },
        },
        links: { self: batchPath(batchId) },
      },
      included: items.map((r) => messageResource(r)),
    };
  });
}
