// SendRequest validation: the schema plus the cross-field rules of SPEC §1, every issue reported at once.
import type { z } from 'zod';
import { AttachmentError, ValidationError, type Issue } from './errors.js';
import {
  AttachmentSchema,
  CHANNELS,
  contentHead,
  contentSize,
  MessageRefSchema,
  ResendRequestSchema,
  SendRequestSchema,
  type Attachment,
  type ChannelName,
  type MessageRef,
  type ResendRequest,
  type SendRequest,
  type SendRequestInput,
} from './send-request.js';

export type Limits = { maxAttachments: number; maxAttachmentBytes: number };

/** zod's path ['attachments', 0, 'fileName'] as the field name callers see: attachments[0].fileName */
export function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** The value at a zod path in the raw input: zod 4 does not keep `input` on its issues. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function zodIssues(error: z.ZodError, input: unknown): Issue[] {
  return error.issues.map((i) => {
    const field = fieldName(i.path);
    const missing = i.path.length > 0 && valueAt(input, i.path) === undefined;
    const text = missing ? 'is required' : i.message;
    return { code: 1, field, text: `${field} ${text}` };
  });
}

const present = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');

/** The channel of SPEC §4: the request's, else the template's, else EMAIL. */
export function resolveChannel(input: SendRequestInput, templateChannel?: ChannelName): ChannelName {
  const c = input.channel;
  if (typeof c === 'string' && (CHANNELS as readonly string[]).includes(c)) return c as ChannelName;
  return templateChannel ?? 'EMAIL';
}

/** Required-per-channel and mutually exclusive fields (SPEC §1 column "req"). */
export function channelIssues(input: SendRequestInput, channel: ChannelName): Issue[] {
  const issues: Issue[] = [];
  const need = (field: string, why: string) => {
    if (!present(input[field])) issues.push({ code: 1, field, text: `${field} is required ${why}` });
  };
  need('recipientName', 'for every channel');
  if (channel === 'EMAIL' || channel === 'PORTAL') need('recipientEmailAddress', `for channel ${channel}`);
  if (channel === 'POST') {
    need('recipientPostalAddress', 'for channel POST');
    need('letterType', 'for channel POST');
  }
  if (channel === 'PORTAL') need('partnerRef', 'for channel PORTAL (it is the recipient id)');
  if (channel === 'ARCHIVE' && !(Array.isArray(input.attachments) && input.attachments.length > 0)) {
    issues.push({ code: 1, field: 'attachments', text: 'attachments must hold at least one file for channel ARCHIVE' });
  }
  if (present(input.messageType)) {
    for (const f of ['mailSubject', 'mailBody', 'mailHtmlBody']) {
      if (present(input[f])) issues.push({ code: 1, field: f, text: `${f} must not be given together with messageType` });
    }
  } else if (channel !== 'ARCHIVE') {
    if (!present(input.mailSubject) && channel !== 'POST') need('mailSubject', 'when no messageType is given');
    if (!present(input.mailBody) && !present(input.mailHtmlBody)) {
      issues.push({ code: 1, field: 'mailBody', text: 'mailBody or mailHtmlBody is required when no messageType is given' });
    }
  }
  if (present(input.messageTypeVersion) && !present(input.messageType)) {
    issues.push({ code: 1, field: 'messageTypeVersion', text: 'messageTypeVersion needs a messageType' });
  }
  return issues;
}

const base64Re = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes base64 strictly: Buffer.from would silently drop what is not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!base64Re.test(compact) || compact.length % 4 === 1) return undefined;
  return Buffer.from(compact, 'base64');
}

function countIssues(count: number, limits: Limits): Issue[] {
  if (count <= limits.maxAttachments) return [];
  return [{ code: 5, field: 'attachments', text: `at most ${limits.maxAttachments} attachments are allowed, got ${count}`, limit: limits.maxAttachments }];
}

/** Source, content and size rules of one attachment (code 5); decodes inline base64 into bytes. */
function oneAttachmentIssues(a: Attachment, i: number, limits: Limits): Issue[] {
  const field = `attachments[${i}]`;
  const source = (a.properties.find((p) => p.key === 'ATTACHMENT_SOURCE')?.value ?? 'INLINE').toUpperCase();
  if (source !== 'INLINE' && source !== 'FS') {
    return [{ code: 5, field: `${field}.properties.ATTACHMENT_SOURCE`, text: `ATTACHMENT_SOURCE must be INLINE or FS, got ${source}` }];
  }
  if (source === 'FS') {
    if (!a.properties.some((p) => p.key === 'RELATIVE_FILE_PATH' && p.value)) {
      return [{ code: 5, field: `${field}.properties.RELATIVE_FILE_PATH`, text: `${field} has ATTACHMENT_SOURCE FS but no RELATIVE_FILE_PATH` }];
    }
    return [];
  }
  if (typeof a.content === 'string') {
    const bytes = decodeBase64(a.content);
    if (!bytes) return [{ code: 5, field: `${field}.content`, text: `${field}.content is not valid base64` }];
    a.content = bytes;
  }
  if (a.content === undefined) {
    return [{ code: 5, field: `${field}.content`, text: `${field}.content is required for an INLINE attachment` }];
  }
  const size = contentSize(a.content);
  if (size > limits.maxAttachmentBytes) {
    return [
      {
        code: 5,
        field: `${field}.content`,
        text: `${field} (${a.fileName}) is ${size} bytes, over the limit of ${limits.maxAttachmentBytes}`,
        limit: limits.maxAttachmentBytes,
      },
    ];
  }
  return [];
}

/** Count, size and content rules of attachments (code 5); decodes inline base64 into bytes. */
export function attachmentIssues(request: Pick<SendRequest, 'attachments'>, limits: Limits): Issue[] {
  return [...countIssues(request.attachments.length, limits), ...request.attachments.flatMap((a, i) => oneAttachmentIssues(a, i, limits))];
}

/**
 * The attachment rules for a request the schema refused elsewhere: each attachment that parses on its
 * own is still checked, so a caller sees every violation at once (SPEC §4 step 1), not one round at a time.
 */
function rawAttachmentIssues(input: SendRequestInput, limits: Limits): Issue[] {
  const raw = input.attachments;
  if (!Array.isArray(raw)) return [];
  return [
    ...countIssues(raw.length, limits),
    ...raw.flatMap((item, i) => {
      const a = AttachmentSchema.safeParse(item);
      return a.success ? oneAttachmentIssues(a.data, i, limits) : [];
    }),
  ];
}

/**
 * Parses and checks a request in one pass. Schema issues and channel rules are collected together,
 * so a caller sees every violation at once; `extra` adds issues found by look-ups (template, related message).
 */
export function validateSendRequest(input: SendRequestInput, channel: ChannelName, limits: Limits, extra: Issue[] = []): SendRequest {
  const parsed = SendRequestSchema.safeParse(input);
  const issues = [...(parsed.success ? [] : zodIssues(parsed.error, input)), ...channelIssues(input, channel), ...extra];
  issues.push(...(parsed.success ? attachmentIssues(parsed.data, limits) : rawAttachmentIssues(input, limits)));
  if (issues.length > 0) {
    if (issues.every((i) => i.code === 5)) throw new AttachmentError(issues);
    throw new ValidationError(dedupe(issues));
  }
  return parsed.data!;
}

/** A request the schema alone checks: every issue at once, each naming its field. */
function parsed<S extends z.ZodType>(schema: S, input: SendRequestInput): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(zodIssues(result.error, input));
  return result.data;
}

export const validateResendRequest = (input: SendRequestInput): ResendRequest => parsed(ResendRequestSchema, input);
export const validateMessageRef = (input: SendRequestInput): MessageRef => parsed(MessageRefSchema, input);

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.field}|${i.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A PDF by its magic bytes, which readers accept within the first 1024 bytes after white space or a BOM. */
export function looksLikePdf(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 1024).toString('latin1');
  const at = head.indexOf('%PDF-');
  return at >= 0 && /^(?:\xEF\xBB\xBF|\s)*$/.test(head.slice(0, at));
}

const ARCHIVE_TARGETS = ['DMS', 'FS'];

/**
 * Rules that need the attachment bytes (after file-system sources are read): only a PDF can be certified
 * or appended to a POST letter (SPEC §4 steps 5-6), and the archive target must be one we have.
 */
export function documentIssues(req: Pick<SendRequest, 'attachments' | 'properties'>, channel: ChannelName): Issue[] {
  const issues: Issue[] = [];
  const target = (props: SendRequest['properties'], field: string) => {
    const t = props.find((p) => p.key === 'ARCHIVE_TARGET')?.value;
    if (t !== undefined && !ARCHIVE_TARGETS.includes(t.toUpperCase())) {
      issues.push({ code: 5, field: `${field}.ARCHIVE_TARGET`, text: `ARCHIVE_TARGET must be DMS or FS, got ${t}` });
    }
  };
  target(req.properties, 'properties');
  req.attachments.forEach((a, i) => {
    const field = `attachments[${i}]`;
    target(a.properties, `${field}.properties`);
    if (a.content === undefined || typeof a.content === 'string' || looksLikePdf(contentHead(a.content))) return;
    if (a.certificationExpected) {
      issues.push({ code: 5, field: `${field}.certificationExpected`, text: `${field} (${a.fileName}) is not a PDF; only a PDF can be certified` });
    } else if (channel === 'POST') {
      issues.push({ code: 5, field: `${field}.content`, text: `${field} (${a.fileName}) is not a PDF; a POST letter can only append PDF attachments` });
    }
  });
  return issues;
}
