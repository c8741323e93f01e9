// Portal remote content API (SPEC §5, after seed 004): the app fetches a message's body and PDFs from us.
import type Router from '@koa/router';
import type { PortalStore } from '../store/portal.js';

const PRECONDITION = {
  title: 'Tájékoztatás',
  markdown: 'Az üzenet megnyitásával a tartalmát **kézbesítettnek** tekintjük, és a megnyitás időpontját rögzítjük.',
};

/** The recipient as the app vouches for it; `fiscal_code` is the seed's own header name. */
function recipientOf(ctx: { get(h: string): string }): string | undefined {
  return ctx.get('x-recipient-id') || ctx.get('fiscal_code') || undefined;
}

export function portalRoutes(router: Router<any>, store: PortalStore) {
  // Every miss is the same 404: a wrong recipient never learns that the message exists.
  const notFound = (ctx: any) => {
    ctx.status = 404;
    ctx.body = { title: 'Not found', status: 404 };
  };
  const load = async (ctx: any) => {
    const recipient = recipientOf(ctx);
    const id = Number(ctx.params.id);
    if (!recipient || !Number.isSafeInteger(id)) return undefined;
    return store.message(recipient, id);
  };

  router.get('/portal/v1/messages/:id/precondition', async (ctx) => {
    if (!(await load(ctx))) return notFound(ctx);
    ctx.body = PRECONDITION;
  });

  router.get('/portal/v1/messages/:id', async (ctx) => {
    const m = await load(ctx);
    if (!m) return notFound(ctx);
    await store.markRead(m.id);
    const attachments = (await store.attachments(m.id)).filter((a) => a.fileName.toLowerCase().endsWith('.pdf'));
    ctx.body = {
      details: { subject: m.subject, markdown: markdownOf(m.textBody, m.htmlBody) },
      attachments: attachments.map((a) => ({ id: String(a.id), content_type: 'application/pdf', name: a.fileName, url: `attachments/${a.id}`, category: 'DOCUMENT' })),
    };
  });

  router.get('/portal/v1/messages/:id/attachments/:attachmentId', async (ctx) => {
    const recipient = recipientOf(ctx);
    const id = Number(ctx.params.id);
    const attachmentId = Number(ctx.params.attachmentId);
    if (!recipient || !Number.isSafeInteger(id) || !Number.isSafeInteger(attachmentId)) return notFound(ctx);
    const a = await store.attachmentContent(recipient, id, attachmentId);
    if (!a) return notFound(ctx);
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.fileName)}`);
    ctx.body = a.content;
  });

  router.get('/portal/v1/recipients/:recipientId/messages', async (ctx) => {
    const recipient = recipientOf(ctx);
    if (!recipient || recipient !== ctx.params.recipientId) return notFound(ctx);
    const list = await store.list(recipient, 100);
    ctx.body = { items: list.map((m) => ({ id: String(m.id), subject: m.subject, created_at: m.createdAt, read: m.readAt !== null })) };
  });
}

/** The body as markdown: the text part, paragraphs kept; from HTML only when there is no text part. */
export function markdownOf(text: string | null, html: string | null): string {
  if (text) return text.replace(/\r\n/g, '\n').trim();
  return (html ?? '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h\d)>/gi, '\n\n')
    .replace(/<(b|strong)>(.*?)<\/\1>/gi, '**$2**')
    .replace(/<[^>]*>/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
