// The canonical SendRequest: the one contract every intake translates into (SPEC §1).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';

export const CHANNELS = ['EMAIL', 'POST', 'PORTAL', 'ARCHIVE'] as const;
export const LETTER_TYPES = ['NORMAL', 'PRIORITY', 'REGISTERED', 'REGISTERED_RETURN_RECEIPT', 'OFFICIAL'] as const;
export type ChannelName = (typeof CHANNELS)[number];
export type LetterType = (typeof LETTER_TYPES)[number];

// Booleans arrive as true/false or as the strings "true"/"false" (SPEC §1).
const bool = z
  .union([z.boolean(), z.enum(['true', 'false'])], { error: 'must be true or false' })
  .transform((v) => v === true || v === 'true');
const integerUpTo = (max: number) =>
  z
    .union([z.number(), z.string().regex(/^\s*-?\d+\s*$/, 'must be an integer')], { error: 'must be an integer' })
    .transform((v) => Number(v))
    .pipe(z.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be a positive integer').max(max, 'is too large'));
const integer = integerUpTo(Number.MAX_SAFE_INTEGER);
/** Template versions are a PostgreSQL `integer` column: a larger number would fail the look-up as an internal error. */
const INT4_MAX = 2_147_483_647;
const noCrLf = (s: string) => !/[\r\n]/.test(s);
/** PostgreSQL text cannot hold U+0000; refused as a field error, never an internal one. */
export const noNul = (s: string) => !s.includes('\u0000');
const NUL_TEXT = 'must not contain a NUL character';
const str = (max?: number) => {
  const s = z.string({ error: 'must be a string' });
  return (max ? s.max(max, `must be at most ${max} characters`) : s).refine(noNul, NUL_TEXT);
};
/** A string that ends up in a mail header: CR/LF would let a caller inject headers. */
const headerStr = (max: number) => str(max).refine(noCrLf, 'must not contain line breaks');
const emailRe = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const email = (max: number) => headerStr(max).refine((v) => emailRe.test(v.trim()), 'must be an e-mail address');
/** `;`-separated e-mail list (also `,`), each checked. */
const emailList = (max: number) =>
  headerStr(max).refine((v) => splitAddressList(v).every((a) => emailRe.test(a)), 'must be e-mail addresses separated by ;');

export function splitAddressList(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[;,]/)
    .map((a) => a.trim())
    .filter(Boolean);
}

/** Bounds of what is stored beside the content (issue 15): property and param values, and how many of each. */
export const VALUE_MAX = 4000;
export const ENTRIES_MAX = 100;
const value = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine(noNul, NUL_TEXT)
  .refine((v) => v.length <= VALUE_MAX, `must be at most ${VALUE_MAX} characters`);
const entries = <T extends z.ZodTypeAny>(item: T) => z.array(item).max(ENTRIES_MAX, `must hold at most ${ENTRIES_MAX} entries`).optional().default([]);

export const PropertySchema = z.object({
  key: str(255).min(1, 'is required'),
  value: value.optional().default(''),
  isMetaData: bool.optional().default(false),
});
export const ParamSchema = z.object({
  key: str(255).min(1, 'is required'),
  value: value.optional().default(''),
});

/**
 * Attachment bytes an intake spooled to a temporary file while they streamed in (REST multipart), with what
 * the core needs computed on the way: the size (limits) and the first KiB (the PDF check). The SHA-256 (SPEC §6
 * fingerprint) is read from the file only when a request key needs it (`digest()`): most requests carry none,
 * and hashing costs about a millisecond per MB. A class, so a JSON body can never pass an object that points at
 * a file of its choice.
 */
export class SpooledFile {
  #sha256: string | undefined;
  constructor(
    readonly path: string,
    readonly size: number,
    sha256: string | undefined,
    readonly head: Buffer,
  ) {
    this.#sha256 = sha256;
  }

  /** The SHA-256 of the bytes, read from the file the first time. */
  async digest(): Promise<string> {
    if (this.#sha256 === undefined) {
      const hash = createHash('sha256');
      for await (const chunk of fs.createReadStream(this.path)) hash.update(chunk as Buffer);
      this.#sha256 ??= hash.digest('hex');
    }
    return this.#sha256;
  }

  /** The SHA-256 once digest() has run. */
  get sha256(): string {
    if (this.#sha256 === undefined) throw new Error(`the SHA-256 of ${this.path} was asked before digest()`);
    return this.#sha256;
  }
}
/** Attachment bytes as the core handles them: in memory (SOAP base64, file-system source) or spooled. */
export type AttachmentContent = Buffer | SpooledFile;
export const contentSize = (c: AttachmentContent) => (Buffer.isBuffer(c) ? c.length : c.size);
/** The first KiB: where a PDF reader looks for the magic bytes. */
export const contentHead = (c: AttachmentContent) => (Buffer.isBuffer(c) ? c.subarray(0, 1024) : c.head);

export const AttachmentSchema = z.object({
  fileName: headerStr(255).min(1, 'is required'),
  /** base64 text (SOAP, JSON), bytes already read (file-system source) or a spooled multipart part. */
  content: z.union([z.string(), z.instanceof(Buffer), z.instanceof(SpooledFile)]).optional(),
  attachmentRef: str(255).optional(),
  documentType: str(100).optional(),
  objectType: str(100).optional(),
  objectRef: str(100).optional(),
  archivingExpected: bool.optional(),
  certificationExpected: bool.optional(),
  deleteSourceExpected: bool.optional(),
  postableWithoutCertificate: bool.optional(),
  internalFileName: headerStr(255).optional(),
  contentAvailable: bool.optional(),
  properties: entries(PropertySchema),
});

export const SendRequestSchema = z.object({
  clientHashKey: str(100).min(1, 'is required'),
  requestId: str(150).optional(),
  batchId: str(100).optional(),
  partnerRef: str(100).optional(),
  messageType: str(100).optional(),
  messageTypeVersion: integerUpTo(INT4_MAX).optional(),
  mailSubject: headerStr(600).optional(),
  mailBody: str().optional(),
  mailHtmlBody: str().optional(),
  recipientPostalAddress: str(255).optional(),
  recipientEmailAddress: email(100).optional(),
  recipientName: headerStr(100).optional(),
  recipientEmailAddressCC: emailList(100).optional(),
  recipientNameCC: headerStr(100).optional(),
  replyToAddress: email(100).optional(),
  replyToName: headerStr(100).optional(),
  fromAddress: email(100).optional(),
  fromName: headerStr(100).optional(),
  bccAddress: emailList(150).optional(),
  xmlData: str().optional(),
  archivingExpected: bool.optional(),
  certificationExpected: bool.optional(),
  channel: z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }).optional(),
  userName: headerStr(100).optional(),
  relatedMessageId: integer.optional(),
  replyEnvelopeAttached: bool.optional(),
  paymentSlipAttached: bool.optional(),
  campaignPartId: integer.optional(),
  letterType: z.enum(LETTER_TYPES, { error: `must be one of ${LETTER_TYPES.join(', ')}` }).optional(),
  attachments: z.array(AttachmentSchema).optional().default([]),
  properties: entries(PropertySchema),
  params: entries(ParamSchema),
});

/** What an adapter hands the core: wire primitives, not yet checked. */
export type SendRequestInput = Record<string, unknown>;
export type SendRequest = z.output<typeof SendRequestSchema>;
export type Attachment = z.output<typeof AttachmentSchema>;
export type Property = z.output<typeof PropertySchema>;
export type Param = z.output<typeof ParamSchema>;

export const ResendRequestSchema = z.object({
  clientHashKey: str(100).min(1, 'is required'),
  messageId: integer,
  requestId: str(150).optional(),
  userName: headerStr(100).optional(),
  recipientEmailAddress: email(100).optional(),
  params: entries(ParamSchema),
});
export type ResendRequest = z.output<typeof ResendRequestSchema>;
/** getMessageStatus: which message, asked by whom (SPEC §5 over SOAP). */
export const MessageRefSchema = ResendRequestSchema.pick({ clientHashKey: true, messageId: true });
export type MessageRef = z.output<typeof MessageRefSchema>;

/** Where a request came from: not part of the payload, stored with the message (SPEC §3 traceability). */
export type IntakeContext = {
  intake: 'soap' | 'rest' | 'amqp';
  correlationId: string;
  origin?: string;
  issuer?: string;
  /** REST `Idempotency-Key` header or AMQP `message_id`; the IDEMPOTENCY_KEY param is read from the request. */
  idempotencyKey?: string;
  /**
   * AMQP without message_id: a key made from the message itself. Its first delivery always stores (two identical
   * messages are two requests) and leaves the key pointing at what it stored; a redelivery finds that (SPEC §8).
   */
  delivery?: { key: string; redelivered: boolean };
  /** The raw `Authorization` header (REST, AMQP), verified for clients with JWT settings (SPEC §3). */
  authorization?: string;
};

/** The answer of every operation, before an adapter puts it on its wire. */
export type SendAnswer = { messageId?: number; status: 0; params: Param[] };

export function paramValue(params: Param[], key: string): string | undefined {
  return params.find((p) => p.key === key)?.value;
}
export function propertyValue(props: Property[], key: string): string | undefined {
  return props.find((p) => p.key === key)?.value;
}
