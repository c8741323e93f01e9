// Portal remote content API (SPEC §5, after seed 004): the app fetches a message's body and PDFs from us.
// The platform authenticates with its client's portal key; every look-up is within that client, then the recipient.
import type { Next } from 'koa';
import { AuthError, NotFound } from '../core/errors.js';
import { keyHash } from '../core/secrets.js';
import { htmlToMarkdown } from '../documents/html-text.js';
import type { PortalKeyStore } from '../store/portal-keys.js';
import type { PortalStore } from '../store/portal.js';
import type { ApiContext, ApiRouter } from './context.js';
import { answerStatusProblem } from './problem.js';

const PRECONDITION = {
  title: 'Tájékoztatás',
  markdown: 'Az üzenet megnyitásával a tartalmát **kézbesítettnek** tekintjük, és a megnyitás időpontját rögzítjük.',
};
/** What migration 005 makes: 64 hex characters. Anything else names no message, so no query is spent on it. */
const REMOTE_ID = /^[0-9a-f]{64}$/;
const SEQ = /^\d{1,4}$/;

export type PortalDeps = { store: PortalStore; keys: PortalKeyStore; keyHeader: string };

/** The recipient as the app vouches for it; `fiscal_code` is the seed's own header name. */
function recipientOf(ctx: { get(h: string): string }): string | undefined {
  return ctx.get('x-recipient-id') || ctx.get('fiscal_code') || undefined;
}

const isPdf = (fileName: string) => fileName.toLowerCase().endsWith('.pdf');


// Every miss is the same 404: a wrong recipient or client never learns that the message exists.
const notFound = (): never => {
  throw new NotFound('no such message for this recipient', 'id');
};

export function portalRoutes(router: ApiRouter, d: PortalDeps) {
  // Runs before every portal route. The x-pagopa-lollipop-* and signature headers the platform may send are
  // accepted and not looked at (seed 004 asks for exactly that).
  const guard = async (ctx: ApiContext, next: Next) => {
    // Only GET reads. koa-router answers HEAD with the GET route, which would read (and record READ): refused here.
    if (ctx.method !== 'GET') {
      ctx.set('Allow', 'GET');
      return answerStatusProblem(ctx, 405, 1, `${ctx.method} is not allowed: the portal API only reads (GET)`);
    }
    const key = ctx.get(d.keyHeader);
    const clientId = key && key.length <= 200 ? await d.keys.clientOf(keyHash(key)) : undefined;
    if (clientId === undefined) {
      ctx.set('WWW-Authenticate', `ApiKey header="${d.keyHeader}"`);
      throw new AuthError(`a valid portal key is needed in the ${d.keyHeader} header`, d.keyHeader);
    }
    ctx.state.portalClientId = clientId;
    await next();
  };
  const load = async (ctx: ApiContext) => {
    const recipient = recipientOf(ctx);
    const id = ctx.params.id!;
    if (!recipient || !REMOTE_ID.test(id)) return undefined;
    return d.store.message(ctx.state.portalClientId!, recipient, id);
  };

  router.get('/portal/v1/messages/:id/precondition', guard, async (ctx) => {
    if (!(await load(ctx))) return notFound();
    ctx.body = PRECONDITION;
  });

  router.get('/portal/v1/messages/:id', guard, async (ctx) => {
    const m = await load(ctx);
    if (!m) return notFound();
    await d.store.markRead(m.id);
    const attachments = (await d.store.attachments(m.id)).filter((a) => isPdf(a.fileName));
    ctx.body = {
      details: { subject: m.subject, markdown: markdownOf(m.textBody, m.htmlBody) },
      // An attachment is named by its place in the message: unique within it, and reachable only under its remote id.
      attachments: attachments.map((a) => ({ id: String(a.seq), content_type: 'application/pdf', name: a.fileName, url: `attachments/${a.seq}`, category: 'DOCUMENT' })),
    };
  });

  router.get('/portal/v1/messages/:id/attachments/:attachmentId', guard, async (ctx) => {
    const recipient = recipientOf(ctx);
    const { id, attachmentId } = ctx.params as { id: string; attachmentId: string };
    if (!recipient || !REMOTE_ID.test(id) || !SEQ.test(attachmentId)) return notFound();
    const a = await d.store.attachmentContent(ctx.state.portalClientId!, recipient, id, Number(attachmentId));
    if (!a || !isPdf(a.fileName)) return notFound();
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.fileName)}`);
    ctx.body = a.content;
  });

  router.get('/portal/v1/recipients/:recipientId/messages', guard, async (ctx) => {
    const recipient = recipientOf(ctx);
    if (!recipient || recipient !== ctx.params.recipientId) return notFound();
    const list = await d.store.list(ctx.state.portalClientId!, recipient, 100);
    ctx.body = { items: list.map((m) => ({ id: m.remoteContentId, subject: m.subject, created_at: m.createdAt, read: m.readAt !== null })) };
  });
}

/** The body as markdown: the text part, paragraphs kept; from HTML only when there is no text part. */
export function markdownOf(text: string | null, html: string | null): string {
  if (text) return text.replace(/\r\n/g, '\n').trim();
  return html ? htmlToMarkdown(html) : '';
}
