// Template versions: a new one is checked by compiling it; a preview renders one exactly as a send would (SPEC §4 step 2).
import { UnknownTemplate, unknownTemplateIssue, ValidationError, type Issue } from './errors.js';
import type { ClientRecord, SendStore } from './ports.js';
import type { RenderBounds } from './render-budget.js';
import { compileTemplate, renderTemplate, templateData, type Rendered, type TemplateVersion } from './render.js';
import { CHANNELS, SendRequestSchema, type ChannelName, type SendRequestInput } from './send-request.js';
import { fieldName } from './validate.js';
import { parseXmlData } from './xml-data.js';

export type NewTemplateVersion = {
  messageType: string;
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  defaultChannel: ChannelName | null;
  active: boolean;
};

const PARTS = [
  { field: 'subject', part: 'subject' },
  { field: 'textBody', part: 'text' },
  { field: 'htmlBody', part: 'html' },
] as const;

// A source's size and its number of expressions ({{…}}) are bounded: compiling takes time in proportion to
// the expressions, all of it while nothing else runs.
export const TEMPLATE_MAX_BYTES = 256 * 1024;
export const TEMPLATE_MAX_EXPRESSIONS = 1000;

const optionalText = (v: unknown, field: string, issues: Issue[]): string | null => {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string' && Buffer.byteLength(v, 'utf8') > TEMPLATE_MAX_BYTES) {
    issues.push({ code: 1, field, text: `${field} must be at most ${TEMPLATE_MAX_BYTES} bytes` });
    return null;
  }
  if (typeof v === 'string' && (v.match(/\{\{/g)?.length ?? 0) > TEMPLATE_MAX_EXPRESSIONS) {
    issues.push({ code: 1, field, text: `${field} must have at most ${TEMPLATE_MAX_EXPRESSIONS} expressions ({{…}})` });
    return null;
  }
  if (typeof v === 'string' && !v.includes('\u0000')) return v;
  issues.push({ code: 1, field, text: typeof v === 'string' ? `${field} must not contain a NUL character` : `${field} must be a string` });
  return null;
};

/**
 * Checks a new version's fields, then compiles each part with the engine a send uses: a part that does not
 * compile is refused (code 3) with the engine's message and line, every broken part at once.
 */
export function checkTemplateVersion(input: Record<string, unknown>): NewTemplateVersion {
  const issues: Issue[] = [];
  const type = input.messageType;
  if (typeof type !== 'string' || type.trim() === '') issues.push({ code: 1, field: 'messageType', text: 'messageType is required' });
  else if (type.length > 100 || !/^[^\s/\\?#%\u0000]+$/.test(type)) {
    issues.push({ code: 1, field: 'messageType', text: 'messageType must be at most 100 characters without spaces, /, \\, ?, # or %' });
  }
  const subject = optionalText(input.subject, 'subject', issues);
  if (subject === null && !issues.some((i) => i.field === 'subject')) issues.push({ code: 1, field: 'subject', text: 'subject is required' });
  const textBody = optionalText(input.textBody, 'textBody', issues);
  const htmlBody = optionalText(input.htmlBody, 'htmlBody', issues);
  if (textBody === null && htmlBody === null && !issues.some((i) => i.field === 'textBody' || i.field === 'htmlBody')) {
    issues.push({ code: 1, field: 'textBody', text: 'textBody or htmlBody is required' });
  }
  const channel = input.defaultChannel ?? null;
  if (channel !== null && !(CHANNELS as readonly unknown[]).includes(channel)) {
    issues.push({ code: 1, field: 'defaultChannel', text: `defaultChannel must be one of ${CHANNELS.join(', ')}` });
  }
  const active = input.active ?? true;
  if (typeof active !== 'boolean') issues.push({ code: 1, field: 'active', text: 'active must be true or false' });
  if (issues.length) throw new ValidationError(issues);

  const sources = { subject: subject!, textBody, htmlBody };
  for (const { field, part } of PARTS) {
    const src = sources[field];
    if (src === null) continue;
    try {
      compileTemplate({ subject: part === 'subject' ? src : '', textBody: part === 'text' ? src : null, htmlBody: part === 'html' ? src : null });
    } catch (e) {
      issues.push({ code: 3, field, text: (e as Error).message });
    }
  }
  if (issues.length) throw new ValidationError(issues);
  return { messageType: (type as string).trim(), subject: subject!, textBody, htmlBody, defaultChannel: channel as ChannelName | null, active: active as boolean };
}

/**
 * Renders a stored version with the given request fields (xmlData, properties, recipientName, …) through the
 * same schema, data rules and renderer as a send naming that version; nothing is stored. Without a version,
 * the newest active one, as a send without messageTypeVersion.
 */
export async function previewTemplate(
  store: SendStore,
  client: ClientRecord,
  messageType: string,
  version: number | undefined,
  input: SendRequestInput,
  bounds?: RenderBounds,
): Promise<{ template: TemplateVersion; rendered: Rendered }> {
  const template = await store.findTemplate(client.id, messageType, version);
  if (!template) throw new UnknownTemplate([unknownTemplateIssue(version ? `${messageType} version ${version}` : messageType)]);
  const parsed = SendRequestSchema.safeParse({
    ...input,
    // The caller is already known (the client): the schema's key field only needs a value.
    clientHashKey: 'authenticated',
    messageType,
    ...(version !== undefined ? { messageTypeVersion: version } : {}),
  });
  const xml = parseXmlData(typeof input.xmlData === 'string' ? input.xmlData : undefined);
  const issues: Issue[] = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ code: 1 as const, field: fieldName(i.path), text: `${fieldName(i.path)} ${i.message}` }))),
    ...xml.issues,
  ];
  if (issues.length) throw new ValidationError(issues);
  return { template, rendered: renderTemplate(template, templateData(parsed.data!, xml.data), bounds) };
}
