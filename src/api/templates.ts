// Template management API in JSON:API: a client lists, reads, adds, switches and previews its own template versions.
import { NotFound, ValidationError } from '../core/errors.js';
import type { SendStore } from '../core/ports.js';
import type { RenderBounds } from '../core/render-budget.js';
import { checkTemplateVersion, previewTemplate } from '../core/templates.js';
import type { TemplateRow, TemplateStore } from '../store/templates.js';
import { readAttributes } from './body.js';
import { callerOf } from './caller.js';
import type { ApiContext, ApiRouter } from './context.js';
import { JSONAPI } from '../adapters/forms/jsonapi.js';
import { QueryReader } from './params.js';
import { BASE } from './status.js';

const TEMPLATES = `${BASE}/templates`;
const versionPath = (messageType: string, version: number) => `${TEMPLATES}/${encodeURIComponent(messageType)}/versions/${version}`;

function templateResource(r: Partial<TemplateRow> & Pick<TemplateRow, 'message_type' | 'version'>) {
  return {
    type: 'templates',
    id: `${r.message_type}:${r.version}`,
    attributes: {
      messageType: r.message_type,
      version: r.version,
      defaultChannel: r.default_channel,
      active: r.active,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      // Sources only when the row was read whole (one version), not in the list.
      ...(r.subject !== undefined ? { subject: r.subject, textBody: r.text_body, htmlBody: r.html_body } : {}),
    },
    links: { self: versionPath(r.message_type, r.version) },
  };
}

/** A version in the path that is no positive 32-bit integer names no version: 404. */
function versionOf(raw: string | undefined, messageType: string): number {
  const v = raw !== undefined && /^\d{1,10}$/.test(raw) ? Number(raw) : 0;
  if (v < 1 || v > 2_147_483_647) throw new NotFound(`template ${messageType} version ${raw} not found`, 'version');
  return v;
}

export function templateRoutes(router: ApiRouter, sendStore: SendStore, templates: TemplateStore, renderBounds?: RenderBounds) {
  const caller = callerOf(sendStore);

  router.get(TEMPLATES, async (ctx) => {
    const client = await caller(ctx);
    const q = new QueryReader(ctx.query);
    const messageType = q.string('messageType', 100);
    q.check();
    ctx.type = JSONAPI;
    ctx.body = { data: (await templates.list(client.id, messageType)).map(templateResource) };
  });

  router.post(TEMPLATES, async (ctx) => {
    const client = await caller(ctx);
    const version = checkTemplateVersion(await readAttributes(ctx, ['templates']));
    const row = await templates.create(client.id, version);
    ctx.status = 201;
    ctx.set('Location', versionPath(row.message_type, row.version));
    ctx.type = JSONAPI;
    ctx.body = { data: templateResource(row) };
  });

  router.get(`${TEMPLATES}/:messageType/versions/:version`, async (ctx) => {
    const client = await caller(ctx);
    const { messageType } = ctx.params as { messageType: string };
    const row = await templates.get(client.id, messageType, versionOf(ctx.params.version, messageType));
    if (!row) throw new NotFound(`template ${messageType} version ${ctx.params.version} not found`, 'version');
    ctx.type = JSONAPI;
    ctx.body = { data: templateResource(row) };
  });

  // Only `active` changes: a stored version is immutable, so old messages and the render cache stay true.
  router.patch(`${TEMPLATES}/:messageType/versions/:version`, async (ctx) => {
    const client = await caller(ctx);
    const { messageType } = ctx.params as { messageType: string };
    const version = versionOf(ctx.params.version, messageType);
    const attrs = await readAttributes(ctx, ['templates']);
    const others = Object.keys(attrs).filter((k) => k !== 'active' && k !== 'messageType' && k !== 'version');
    const issues = others.map((k) => ({ code: 1 as const, field: k, text: `${k} cannot change: a stored version is immutable, create a new version instead` }));
    if (typeof attrs.active !== 'boolean') issues.push({ code: 1, field: 'active', text: 'active must be true or false' });
    if (issues.length) throw new ValidationError(issues);
    const row = await templates.setActive(client.id, messageType, version, attrs.active as boolean);
    if (!row) throw new NotFound(`template ${messageType} version ${version} not found`, 'version');
    ctx.type = JSONAPI;
    ctx.body = { data: templateResource(row) };
  });

  // Preview: render with the given xmlData, properties and request fields; nothing is stored or sent.
  const preview = async (ctx: ApiContext) => {
    const client = await caller(ctx);
    const { messageType } = ctx.params as { messageType: string };
    const version = ctx.params.version === undefined ? undefined : versionOf(ctx.params.version, messageType);
    const input = await readAttributes(ctx, ['templatePreviews', 'sendRequest', 'sendRequests']);
    const { template, rendered } = await previewTemplate(sendStore, client, messageType, version, input, renderBounds);
    ctx.type = JSONAPI;
    ctx.body = {
      data: {
        type: 'templatePreviews',
        attributes: { messageType: template.messageType, version: template.version, subject: rendered.subject, textBody: rendered.text, htmlBody: rendered.html },
        relationships: { template: { data: { type: 'templates', id: `${template.messageType}:${template.version}` }, links: { related: versionPath(template.messageType, template.version) } } },
      },
    };
  };
  router.post(`${TEMPLATES}/:messageType/preview`, preview);
  router.post(`${TEMPLATES}/:messageType/versions/:version/preview`, preview);
}
