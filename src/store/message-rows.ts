// A message and its attachments as rows, and back: the one column list every message insert and read uses.
import type { MessageContent, NewAttachment, NewMessage } from '../core/ports.js';
import type { AttachmentContent, ChannelName, LetterType } from '../core/send-request.js';
import type { Row } from './rows.js';

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export function messageRow(m: NewMessage): Row {
  return {
    client_id: m.clientId,
    status: 'QUEUED',
    channel: m.channel,
    request_id: m.requestId,
    batch_id: m.batchId,
    partner_ref: m.partnerRef,
    message_type: m.messageType,
    message_type_version: m.messageTypeVersion,
    template_id: m.templateId,
    subject: m.subject,
    text_body: m.textBody,
    html_body: m.htmlBody,
    recipient_name: m.recipientName,
    recipient_email_address: m.recipientEmailAddress,
    recipient_postal_address: m.recipientPostalAddress,
    recipient_email_address_cc: m.recipientEmailAddressCC,
    recipient_name_cc: m.recipientNameCC,
    bcc_address: m.bccAddress,
    reply_to_address: m.replyToAddress,
    reply_to_name: m.replyToName,
    from_address: m.fromAddress,
    from_name: m.fromName,
    xml_data: m.xmlData,
    archiving_expected: m.archivingExpected,
    certification_expected: m.certificationExpected,
    user_name: m.userName,
    related_message_id: m.relatedMessageId,
    reply_envelope_attached: m.replyEnvelopeAttached,
    payment_slip_attached: m.paymentSlipAttached,
    campaign_part_id: m.campaignPartId,
    letter_type: m.letterType,
    properties: JSON.stringify(m.properties),
    params: JSON.stringify(m.params),
    intake: m.intake,
    origin: m.origin,
    issuer: m.issuer,
    correlation_id: m.correlationId,
  };
}

/** An attachment's row without its bytes: those go to the attachment blobs (store/attachment-blobs.ts). */
export function attachmentRow(messageId: number, seq: number, a: NewAttachment<AttachmentContent>, size: number): Row {
  return {
    message_id: messageId,
    seq,
    file_name: a.fileName,
    content: EMPTY,
    size,
    document_type: a.documentType,
    object_type: a.objectType,
    object_ref: a.objectRef,
    archiving_expected: a.archivingExpected,
    certification_expected: a.certificationExpected,
    delete_source_expected: a.deleteSourceExpected,
    postable_without_certificate: a.postableWithoutCertificate,
    internal_file_name: a.internalFileName,
    properties: JSON.stringify(a.properties),
  };
}

const EMPTY = Buffer.alloc(0);

/** `attachments`: their rows, each with its bytes as `content`. */
export function contentFromRows(r: Row, attachments: Row[]): MessageContent {
  return {
    clientId: r.client_id,
    requestId: opt(r.request_id),
    batchId: opt(r.batch_id),
    partnerRef: opt(r.partner_ref),
    messageType: opt(r.message_type),
    messageTypeVersion: opt(r.message_type_version),
    templateId: opt(r.template_id),
    channel: r.channel as ChannelName,
    subject: r.subject,
    textBody: r.text_body,
    htmlBody: r.html_body,
    recipientName: r.recipient_name,
    recipientEmailAddress: opt(r.recipient_email_address),
    recipientPostalAddress: opt(r.recipient_postal_address),
    recipientEmailAddressCC: opt(r.recipient_email_address_cc),
    recipientNameCC: opt(r.recipient_name_cc),
    bccAddress: opt(r.bcc_address),
    replyToAddress: opt(r.reply_to_address),
    replyToName: opt(r.reply_to_name),
    fromAddress: r.from_address,
    fromName: opt(r.from_name),
    xmlData: opt(r.xml_data),
    archivingExpected: r.archiving_expected,
    certificationExpected: r.certification_expected,
    userName: opt(r.user_name),
    relatedMessageId: opt(r.related_message_id),
    replyEnvelopeAttached: r.reply_envelope_attached,
    paymentSlipAttached: r.payment_slip_attached,
    campaignPartId: opt(r.campaign_part_id),
    letterType: opt(r.letter_type) as LetterType | undefined,
    properties: r.properties,
    params: r.params,
    attachments: attachments.map((a) => ({
      fileName: a.file_name,
      content: a.content as Buffer,
      documentType: opt(a.document_type),
      objectType: opt(a.object_type),
      objectRef: opt(a.object_ref),
      archivingExpected: a.archiving_expected,
      certificationExpected: a.certification_expected,
      deleteSourceExpected: a.delete_source_expected,
      postableWithoutCertificate: a.postable_without_certificate,
      internalFileName: opt(a.internal_file_name),
      properties: a.properties,
      certified: a.certified ?? false,
    })),
  };
}

// Every message row has the same columns (messageRow names them all), so the insert is written once, here.
export const MESSAGE_COLUMNS = Object.keys(messageRow({ properties: [], params: [] } as unknown as NewMessage));

// Column types for the insert, whose rows come from a VALUES list (text unless said here).
const COLUMN_TYPES: Record<string, string> = {
  client_id: 'int', message_type_version: 'int', template_id: 'int', related_message_id: 'bigint', campaign_part_id: 'bigint',
  archiving_expected: 'boolean', certification_expected: 'boolean', reply_envelope_attached: 'boolean', payment_slip_attached: 'boolean',
  properties: 'jsonb', params: 'jsonb',
};
export const TYPED_ROW = `(?::int, ?::text, ?::text, ${MESSAGE_COLUMNS.map((c) => `?::${COLUMN_TYPES[c] ?? 'text'}`).join(', ')})`;
