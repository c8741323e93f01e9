// What the core needs from the outside world, declared here so the core knows no database or file system.
import type { TemplateVersion } from './render.js';
import type { AttachmentContent, ChannelName, IntakeContext, LetterType, Param, Property } from './send-request.js';

export type ClientRecord = {
  id: number;
  name: string;
  enabled: boolean;
  defaultFromAddress: string;
  defaultFromName: string | null;
  maxAttachments: number | null;
  maxAttachmentBytes: number | null;
  /** Requests (send, resend, each batch item) per second; null: unlimited. */
  rateLimitPerSecond: number | null;
  /** JWT settings (SPEC §3): algorithms pinned per client; `secret` for HS*, `publicKey` (PEM) for RS/PS/ES/EdDSA. */
  jwt: { required: boolean; algorithms: string[]; secret: string | null; publicKey: string | null };
  /** The client's own folder under SOURCE_DIR and ARCHIVE_DIR (a single safe path segment). */
  filesFolder: string;
};

/** `C`: stored and loaded attachments hold a Buffer; a new one may still wait in a spooled file. */
export type NewAttachment<C extends AttachmentContent = Buffer> = {
  fileName: string;
  content: C;
  documentType?: string;
  objectType?: string;
  objectRef?: string;
  archivingExpected: boolean;
  certificationExpected: boolean;
  deleteSourceExpected: boolean;
  postableWithoutCertificate: boolean;
  internalFileName?: string;
  properties: Property[];
  /** Signed by the gateway already (SPEC §4 step 5); set by the worker, never by a caller. */
  certified?: boolean;
};

/** A message as the store keeps it: rendered, with the sender resolved. */
export type MessageContent<C extends AttachmentContent = Buffer> = {
  clientId: number;
  requestId?: string;
  batchId?: string;
  partnerRef?: string;
  messageType?: string;
  messageTypeVersion?: number;
  templateId?: number;
  channel: ChannelName;
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  recipientName: string;
  recipientEmailAddress?: string;
  recipientPostalAddress?: string;
  recipientEmailAddressCC?: string;
  recipientNameCC?: string;
  bccAddress?: string;
  replyToAddress?: string;
  replyToName?: string;
  fromAddress: string;
  fromName?: string;
  xmlData?: string;
  archivingExpected: boolean;
  certificationExpected: boolean;
  userName?: string;
  relatedMessageId?: number;
  replyEnvelopeAttached: boolean;
  paymentSlipAttached: boolean;
  campaignPartId?: number;
  letterType?: LetterType;
  properties: Property[];
  params: Param[];
  attachments: NewAttachment<C>[];
};

export type NewMessage = MessageContent<AttachmentContent> & {
  intake: IntakeContext['intake'];
  origin?: string;
  issuer?: string;
  correlationId: string;
};

/** The keys that make a retry safe (SPEC §6). */
export type DedupKeys = {
  payloadHash: string;
  requestId?: string;
  idempotencyKey?: string;
  /** IntakeContext.delivery: claimed by a redelivery, taken over by a first delivery. */
  delivery?: { key: string; redelivered: boolean };
  windowMs: number;
};

export type StoreResult = { messageId: number; duplicate: boolean };

export interface SendStore {
  /** By the caller's key; the store compares only its SHA-256. */
  findClient(key: string): Promise<ClientRecord | undefined>;
  findTemplate(clientId: number, messageType: string, version?: number): Promise<TemplateVersion | undefined>;
  messageExists(clientId: number, messageId: number): Promise<boolean>;
  /** One transaction: message, attachments, RECEIVED/QUEUED events, delivery job, dedup keys. Throws IdempotencyConflict. */
  storeMessage(m: NewMessage, keys: DedupKeys): Promise<StoreResult>;
  loadMessage(clientId: number, messageId: number): Promise<MessageContent | undefined>;
}

/** Attachment bytes from a file-system source (SPEC §1 ATTACHMENT_SOURCE=FS), each under the client's own `folder`. */
export interface FileSources {
  read(folder: string, relativePath: string, field: string): Promise<Buffer>;
  remove(folder: string, relativePath: string): Promise<void>;
  /** Throws an AttachmentError (code 5) when an archive path would leave the client's folder of ARCHIVE_DIR. */
  checkArchivePath(folder: string, relativePath: string, field: string): Promise<void>;
}

/** Per-client request counting (issue 15): how long until the client may make another request, or 0 if it may now. */
export interface RateLimits {
  take(clientId: number, perSecond: number): Promise<number>;
}
