// acceptSendRequest: the named steps every intake runs — authenticate, validate, render, store, answer (SPEC §4).
import { AttachmentError, UnknownTemplate, unknownTemplateIssue, ValidationError, type Issue } from './errors.js';
import { dedupKeys, idempotencyKeyOf } from './dedup-keys.js';
import { payloadHash } from './payload-hash.js';
import type { RenderBounds } from './render-budget.js';
import type { ClientRecord, FileSources, MessageContent, NewAttachment, RateLimits, SendStore } from './ports.js';
import { renderTemplate, templateData, type Rendered, type TemplateVersion } from './render.js';
import {
  paramValue,
  propertyValue,
  SpooledFile,
  type Attachment,
  type AttachmentContent,
  type ChannelName,
  type IntakeContext,
  type Param,
  type SendAnswer,
  type SendRequest,
  type SendRequestInput,
} from './send-request.js';
import { checkIntakeContext } from './intake-bounds.js';
import { documentIssues, resolveChannel, validateSendRequest, type Limits } from './validate.js';
import { admittedClient } from './throttle.js';
import { parseXmlData, type XmlObject } from './xml-data.js';

export type AcceptDeps = {
  store: SendStore;
  sources: FileSources;
  limits: Limits;
  idempotencyWindowMs: number;
  /** Rendering bounds (default: DEFAULT_RENDER_BOUNDS). */
  render?: RenderBounds;
  /** Counts each client's requests against its rate limit; absent: nobody is throttled. */
  rateLimits?: RateLimits;
  /** Resolves when a request may be stored (intake flow control holds it back while delivery lags far behind). */
  admit?: () => Promise<void>;
  /** Called after a new message is committed, to wake the delivery worker. */
  onStored?: (messageId: number) => void;
  /** Called when a stored source could not be removed after commit (deleteSourceExpected). */
  onSourceRemoveFailed?: (path: string, err: unknown) => void;
};

const present = (v: unknown) => typeof v === 'string' && v.trim() !== '';
const CONTROL_PARAMS = new Set(['IDEMPOTENCY_KEY', 'DRY_RUN']);

function clientLimits(client: ClientRecord, limits: Limits): Limits {
  return {
    maxAttachments: client.maxAttachments ?? limits.maxAttachments,
    maxAttachmentBytes: client.maxAttachmentBytes ?? limits.maxAttachmentBytes,
  };
}

async function lookupTemplate(store: SendStore, client: ClientRecord, input: SendRequestInput) {
  const type = input.messageType;
  if (typeof type !== 'string' || type.trim() === '') return { template: undefined, issues: [] as Issue[] };
  const v = input.messageTypeVersion;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined;
  // A version the schema will refuse anyway (not a positive 32-bit integer) is not looked up.
  const version = n !== undefined && Number.isInteger(n) && n >= 1 && n <= 2147483647 ? n : undefined;
  if (v !== undefined && v !== null && v !== '' && version === undefined) return { template: undefined, issues: [] as Issue[] };
  const template = await store.findTemplate(client.id, type, version);
  if (template) return { template, issues: [] as Issue[] };
  return { template: undefined, issues: [unknownTemplateIssue(version ? `${type} version ${version}` : type)] };
}

/** Reads FS-sourced attachment bytes (SPEC §1 ATTACHMENT_SOURCE=FS); every failure is a code-5 issue. */
async function loadSources(sources: FileSources, folder: string, req: SendRequest, limits: Limits): Promise<void> {
  const issues: Issue[] = [];
  await Promise.all(
    req.attachments.map(async (a, i) => {
      if ((propertyValue(a.properties, 'ATTACHMENT_SOURCE') ?? 'INLINE').toUpperCase() !== 'FS') return;
      const field = `attachments[${i}].properties.RELATIVE_FILE_PATH`;
      try {
        const bytes = await sources.read(folder, propertyValue(a.properties, 'RELATIVE_FILE_PATH')!, field);
        if (bytes.length > limits.maxAttachmentBytes) {
          issues.push({ code: 5, field, text: `attachments[${i}] (${a.fileName}) is ${bytes.length} bytes, over the limit of ${limits.maxAttachmentBytes}`, limit: limits.maxAttachmentBytes });
        }
        a.content = bytes;
      } catch (e) {
        if (e instanceof AttachmentError) issues.push(...e.issues);
        else throw e;
      }
    }),
  );
  if (issues.length) throw new AttachmentError(issues);
}

/** ARCHIVE_RELATIVE_PATH must stay inside the client's folder of ARCHIVE_DIR, checked before anything is stored (SPEC §1). */
async function archivePathIssues(sources: FileSources, folder: string, req: SendRequest): Promise<Issue[]> {
  const all = [
    { props: req.properties, field: 'properties.ARCHIVE_RELATIVE_PATH' },
    ...req.attachments.map((a, i) => ({ props: a.properties, field: `attachments[${i}].properties.ARCHIVE_RELATIVE_PATH` })),
  ];
  const issues: Issue[] = [];
  for (const { props, field } of all) {
    const rel = propertyValue(props, 'ARCHIVE_RELATIVE_PATH');
    if (rel === undefined) continue;
    await sources.checkArchivePath(folder, rel, field).catch((e) => {
      if (e instanceof AttachmentError) issues.push(...e.issues);
      else throw e;
    });
  }
  return issues;
}

function toNewAttachment(a: Attachment): NewAttachment<AttachmentContent> {
  return {
    fileName: a.fileName,
    // validateSendRequest decoded base64 and loadSources read FS sources: no string is left.
    content: a.content as AttachmentContent,
    documentType: a.documentType,
    objectType: a.objectType,
    objectRef: a.objectRef,
    archivingExpected: a.archivingExpected ?? false,
    certificationExpected: a.certificationExpected ?? false,
    deleteSourceExpected: a.deleteSourceExpected ?? false,
    postableWithoutCertificate: a.postableWithoutCertificate ?? false,
    internalFileName: a.internalFileName ?? propertyValue(a.properties, 'INTERNAL_FILE_NAME'),
    properties: a.properties,
  };
}

export function messageContent(
  client: ClientRecord,
  req: SendRequest,
  channel: ChannelName,
  rendered: Rendered,
  template?: TemplateVersion,
): MessageContent<AttachmentContent> {
  return {
    clientId: client.id,
    requestId: req.requestId,
    batchId: req.batchId,
    partnerRef: req.partnerRef,
    messageType: template?.messageType ?? req.messageType,
    messageTypeVersion: template?.version,
    templateId: template?.id,
    channel,
    subject: rendered.subject,
    textBody: rendered.text,
    htmlBody: rendered.html,
    recipientName: req.recipientName!,
    recipientEmailAddress: req.recipientEmailAddress?.trim(),
    recipientPostalAddress: req.recipientPostalAddress,
    recipientEmailAddressCC: req.recipientEmailAddressCC,
    recipientNameCC: req.recipientNameCC,
    bccAddress: req.bccAddress,
    replyToAddress: req.replyToAddress?.trim(),
    replyToName: req.replyToName,
    fromAddress: req.fromAddress?.trim() || client.defaultFromAddress,
    fromName: req.fromAddress ? req.fromName : (req.fromName ?? client.defaultFromName ?? undefined),
    xmlData: req.xmlData,
    archivingExpected: req.archivingExpected ?? false,
    certificationExpected: req.certificationExpected ?? false,
    userName: req.userName,
    relatedMessageId: req.relatedMessageId,
    replyEnvelopeAttached: req.replyEnvelopeAttached ?? false,
    paymentSlipAttached: req.paymentSlipAttached ?? false,
    campaignPartId: req.campaignPartId,
    letterType: req.letterType,
    properties: req.properties,
    params: req.params,
    attachments: req.attachments.map(toNewAttachment),
  };
}

/** What makes two requests "the same" for §6: everything but the control params, with xmlData as parsed data. */
export function requestFingerprint(clientId: number, req: SendRequest, xml: XmlObject, channel: ChannelName): string {
  const { clientHashKey: _k, params, xmlData: _x, ...rest } = req;
  return payloadHash({ op: 'send', clientId, channel, ...rest, xml, params: params.filter((p) => !CONTROL_PARAMS.has(p.key)) });
}

function dryRunParams(params: Param[], channel: ChannelName, r: Rendered): Param[] {
  const out = [...params, { key: 'CHANNEL', value: channel }, { key: 'RENDERED_SUBJECT', value: r.subject }];
  if (r.text !== null) out.push({ key: 'RENDERED_BODY', value: r.text });
  if (r.html !== null) out.push({ key: 'RENDERED_HTML_BODY', value: r.html });
  return out;
}

/** The request checked with the template look-up's issue among the others; that issue alone is "not found" (UnknownTemplate). */
function validateKnowingTemplate(input: SendRequestInput, channel: ChannelName, limits: Limits, templateIssues: Issue[], xmlIssues: Issue[]): SendRequest {
  try {
    return validateSendRequest(input, channel, limits, [...templateIssues, ...xmlIssues]);
  } catch (e) {
    const onlyTemplate = e instanceof ValidationError && templateIssues.length > 0 && e.issues.every((i) => templateIssues.includes(i));
    throw onlyTemplate ? new UnknownTemplate(e.issues) : e;
  }
}

export async function acceptSendRequest(deps: AcceptDeps, input: SendRequestInput, ctx: IntakeContext): Promise<SendAnswer> {
  checkIntakeContext(ctx);
  if (!present(input.clientHashKey)) {
    // No client to look up: still report every other violation along with the missing key.
    const xml = parseXmlData(typeof input.xmlData === 'string' ? input.xmlData : undefined);
    validateSendRequest(input, resolveChannel(input), deps.limits, xml.issues);
  }
  const client = await admittedClient(deps, input.clientHashKey, ctx);
  const limits = clientLimits(client, deps.limits);
  const { template, issues } = await lookupTemplate(deps.store, client, input);
  const xml = parseXmlData(typeof input.xmlData === 'string' ? input.xmlData : undefined);
  const channel = resolveChannel(input, template?.defaultChannel as ChannelName | undefined);
  const req = validateKnowingTemplate(input, channel, limits, issues, xml.issues);
  if (req.relatedMessageId !== undefined && !(await deps.store.messageExists(client.id, req.relatedMessageId))) {
    throw new ValidationError([{ code: 1, field: 'relatedMessageId', text: `relatedMessageId ${req.relatedMessageId} does not exist for this client` }]);
  }
  await loadSources(deps.sources, client.filesFolder, req, limits);
  const docIssues = [...documentIssues(req, channel), ...(await archivePathIssues(deps.sources, client.filesFolder, req))];
  if (docIssues.length) throw new AttachmentError(docIssues);

  const rendered: Rendered = template
    ? renderTemplate(template, templateData(req, xml.data), deps.render)
    : { subject: req.mailSubject ?? '', text: req.mailBody ?? null, html: req.mailHtmlBody ?? null };
  if (paramValue(req.params, 'DRY_RUN')?.toLowerCase() === 'true') {
    return { status: 0, params: dryRunParams(req.params, channel, rendered) };
  }

  const content = messageContent(client, req, channel, rendered, template);
  const keyed = req.requestId !== undefined || idempotencyKeyOf(req.params, ctx) !== undefined;
  // Only a key is ever compared with the fingerprint: without one there is nothing to hash.
  if (keyed) await Promise.all(req.attachments.map((a) => (a.content instanceof SpooledFile ? a.content.digest() : undefined)));
  // Held back before it is stored, not after: a client that gives up while waiting leaves nothing behind to double.
  await deps.admit?.();
  const { messageId, duplicate } = await deps.store.storeMessage(
    { ...content, intake: ctx.intake, origin: ctx.origin, issuer: ctx.issuer, correlationId: ctx.correlationId },
    dedupKeys(req.params, ctx, { payloadHash: keyed ? requestFingerprint(client.id, req, xml.data, channel) : '', requestId: req.requestId, windowMs: deps.idempotencyWindowMs }),
  );
  if (!duplicate) {
    deps.onStored?.(messageId);
    await removeSources(deps, client.filesFolder, req.attachments);
  }
  return { messageId, status: 0, params: req.params };
}

/** deleteSourceExpected: the source goes only after the message is safely stored (issue: channels §5). */
async function removeSources(deps: AcceptDeps, folder: string, attachments: Attachment[]): Promise<void> {
  for (const a of attachments) {
    if (!a.deleteSourceExpected || (propertyValue(a.properties, 'ATTACHMENT_SOURCE') ?? '').toUpperCase() !== 'FS') continue;
    const p = propertyValue(a.properties, 'RELATIVE_FILE_PATH')!;
    await deps.sources.remove(folder, p).catch((e) => deps.onSourceRemoveFailed?.(p, e));
  }
}

