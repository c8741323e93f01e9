// The SendStore the core declares, over knex: clients, templates and the one-transaction message write.
import fs from 'node:fs/promises';
import type { Knex } from 'knex';
import { parseAlgorithms } from '../core/auth.js';
import { isSealed, keyHash, openSecret } from '../core/secrets.js';
import { filesFolderOf } from './clients.js';
import { CannotShare, groupCommit } from './group-commit.js';
import { prepared } from './prepared.js';
import { IdempotencyConflict } from '../core/errors.js';
import type { ClientRecord, DedupKeys, MessageContent, NewAttachment, NewMessage, SendStore, StoreResult } from '../core/ports.js';
import type { BodyMemory } from '../core/memory-budget.js';
import type { TemplateVersion } from '../core/render.js';
import { SpooledFile, type AttachmentContent, type ChannelName, type LetterType } from '../core/send-request.js';

/** Thrown inside the transaction to roll it back when an earlier message answers the request (SPEC §6). */
class DuplicateFound extends Error {
  constructor(readonly messageId: number) {
    super('duplicate');
  }
}

type Row = Record<string, any>;
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** bytea comes back as a Buffer from pg but as a plain Uint8Array from PGlite: one type for the rest. */
export function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A JWT secret is opened only here, for the verification that needs it; one still in clear is not used (sealStoredSecrets). */
function jwtSecretOf(stored: string | null, secretsKey: Buffer | undefined): string | null {
  if (stored === null || !secretsKey || !isSealed(stored)) return null;
  try {
    return openSecret(secretsKey, stored);
  } catch {
    return null;
  }
}

export function clientFromRow(r: Row, secretsKey?: Buffer): ClientRecord {
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    defaultFromAddress: r.default_from_address,
    defaultFromName: r.default_from_name,
    maxAttachments: r.max_attachments,
    maxAttachmentBytes: r.max_attachment_bytes === null ? null : Number(r.max_attachment_bytes),
    rateLimitPerSecond: r.rate_limit_per_second ?? null,
    jwt: { required: r.jwt_required, algorithms: parseAlgorithms(r.jwt_algorithms), secret: jwtSecretOf(r.jwt_secret, secretsKey), publicKey: r.jwt_public_key },
    filesFolder: filesFolderOf(r as { id: number; files_folder: string | null }),
  };
}

export function templateFromRow(r: Row): TemplateVersion {
  return {
    id: r.id,
    messageType: r.message_type,
    version: r.version,
    subject: r.subject,
    textBody: r.text_body,
    htmlBody: r.html_body,
    defaultChannel: r.default_channel,
  };
}

function messageRow(m: NewMessage): Row {
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

function attachmentRow(messageId: number, seq: number, a: NewAttachment<AttachmentContent>, content: Buffer): Row {
  return {
    message_id: messageId,
    seq,
    file_name: a.fileName,
    content,
    size: content.length,
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

/** The bytes of a spooled attachment; a file that changed since it was measured is an internal error, never stored. */
async function readSpooled(f: SpooledFile): Promise<Buffer> {
  const bytes = await fs.readFile(f.path);
  if (bytes.length !== f.size) throw new Error(`spooled attachment ${f.path} changed size (${f.size} -> ${bytes.length})`);
  return bytes;
}

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
      content: asBuffer(a.content),
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

/**
 * SPEC §6 under concurrency: the unique keys decide, not a read. A concurrent insert of the same key waits
 * for the first transaction; once it commits, ours sees the conflict and answers with the first messageId.
 */
async function claimKeys(trx: Knex.Transaction, clientId: number, messageId: number, k: DedupKeys): Promise<void> {
  const windowMs = k.windowMs;
  if (k.idempotencyKey) {
    const claimed = await trx.raw(
      `insert into idempotency_keys (client_id, key, payload_hash, message_id) values (?, ?, ?, ?)
       on conflict (client_id, key) do update
         set payload_hash = excluded.payload_hash, message_id = excluded.message_id, created_at = excluded.created_at
         where idempotency_keys.created_at < now() - (? * interval '1 millisecond')
       returning message_id`,
      [clientId, k.idempotencyKey, k.payloadHash, messageId, windowMs],
    );
    if (claimed.rows.length === 0) {
      const first = await trx('idempotency_keys').where({ client_id: clientId, key: k.idempotencyKey }).first();
      if (first.payload_hash !== k.payloadHash) {
        throw new IdempotencyConflict(`IDEMPOTENCY_KEY ${k.idempotencyKey} was already used for message ${first.message_id} with another payload`);
      }
      throw new DuplicateFound(first.message_id);
    }
  }
  if (k.delivery) {
    // A first delivery takes the key over (an identical message is a new request); a redelivery finds its first storing.
    const claimed = await trx.raw(
      `insert into idempotency_keys (client_id, key, payload_hash, message_id) values (?, ?, '', ?)
       on conflict (client_id, key) do update
         set message_id = excluded.message_id, created_at = excluded.created_at
         where not ?::boolean or idempotency_keys.created_at < now() - (? * interval '1 millisecond')
       returning message_id`,
      [clientId, k.delivery.key, messageId, k.delivery.redelivered, windowMs],
    );
    if (claimed.rows.length === 0) {
      const first = await trx('idempotency_keys').where({ client_id: clientId, key: k.delivery.key }).first();
      throw new DuplicateFound(first.message_id);
    }
  }
  if (k.requestId) {
    const claimed = await trx.raw(
      `insert into request_keys (client_id, request_id, payload_hash, message_id) values (?, ?, ?, ?)
       on conflict (client_id, request_id, payload_hash) do update
         set message_id = excluded.message_id, created_at = excluded.created_at
         where request_keys.created_at < now() - (? * interval '1 millisecond')
       returning message_id`,
      [clientId, k.requestId, k.payloadHash, messageId, windowMs],
    );
    if (claimed.rows.length === 0) {
      const first = await trx('request_keys').where({ client_id: clientId, request_id: k.requestId, payload_hash: k.payloadHash }).first();
      throw new DuplicateFound(first.message_id);
    }
  }
}

// Every message row has the same columns (messageRow names them all), so the insert is written once, here.
export const MESSAGE_COLUMNS = Object.keys(messageRow({ properties: [], params: [] } as unknown as NewMessage));

// Column types for the insert, whose rows come from a VALUES list (text unless said here).
const COLUMN_TYPES: Record<string, string> = {
  client_id: 'int', message_type_version: 'int', template_id: 'int', related_message_id: 'bigint', campaign_part_id: 'bigint',
  archiving_expected: 'boolean', certification_expected: 'boolean', reply_envelope_attached: 'boolean', payment_slip_attached: 'boolean',
  properties: 'jsonb', params: 'jsonb',
};
const TYPED_ROW = `(?::int, ?::text, ?::text, ${MESSAGE_COLUMNS.map((c) => `?::${COLUMN_TYPES[c] ?? 'text'}`).join(', ')})`;

type HotWrite = { m: NewMessage; keys: DedupKeys };

/**
 * Messages, each with its RECEIVED and QUEUED events and its delivery job, in one statement (STYLE §3): one
 * message on the transactional path, many when requests share a statement. The ids are drawn first, in a CTE
 * that runs once, so each row's id is known by its position. A message with an IDEMPOTENCY_KEY is written only
 * if its key is claimed in the same statement; for one whose key is taken the answer is undefined, and the
 * caller takes the transactional path, which finds the first message (SPEC §6). Attachments and requestId
 * keys are the transactional path's (the key claim here is for the idempotency key only).
 */
async function insertMessagesEventsJobs(db: Knex | Knex.Transaction, items: HotWrite[]): Promise<(number | undefined)[]> {
  // ON CONFLICT's condition has one window for the statement; requests with another one are written on their own.
  const windowMs = items[0]!.keys.windowMs;
  if (items.some((i) => i.keys.windowMs !== windowMs)) throw new CannotShare('one statement, one idempotency window');
  const bindings: Knex.Value[] = [items.length];
  for (const [i, { m, keys }] of items.entries()) {
    const row = messageRow(m);
    bindings.push(i + 1, keys.idempotencyKey ?? null, keys.idempotencyKey ? keys.payloadHash : null);
    for (const c of MESSAGE_COLUMNS) bindings.push(row[c] ?? null);
  }
  bindings.push(windowMs);
  const cols = MESSAGE_COLUMNS.join(', ');
  const r = await db.raw(
    `with ids as (select nextval(pg_get_serial_sequence('messages', 'id')) as id, ord from generate_series(1, ?::int) as ord),
       v(ord, k_key, k_hash, ${cols}) as (values ${items.map(() => TYPED_ROW).join(', ')}),
       k as (insert into idempotency_keys (client_id, key, payload_hash, message_id)
               select v.client_id, v.k_key, v.k_hash, ids.id from v join ids using (ord) where v.k_key is not null
             on conflict (client_id, key) do update
               set payload_hash = excluded.payload_hash, message_id = excluded.message_id, created_at = excluded.created_at
               where idempotency_keys.created_at < now() - (?::bigint * interval '1 millisecond')
             returning message_id),
       ok as (select ids.id, ids.ord from ids join v using (ord) where v.k_key is null or ids.id in (select message_id from k)),
       m as (insert into messages (id, ${cols}) select ok.id, ${MESSAGE_COLUMNS.map((c) => `v.${c}`).join(', ')} from ok join v using (ord) returning id),
       e as (insert into message_events (message_id, status, reason)
             select ok.id, s.status, case when s.n = 1 then 'via ' || v.intake end
               from ok join v using (ord), (values (1, 'RECEIVED'), (2, 'QUEUED')) as s(n, status)
              order by ok.ord, s.n),
       j as (insert into jobs (message_id) select id from m)
     select ok.id, ok.ord from ok order by ok.ord`,
    bindings,
  ).options(prepared(db, `hammy_accept_${items.length}`)); // one text per batch size
  const stored = new Map<number, number>(r.rows.map((x: Row) => [Number(x.ord), Number(x.id)]));
  return items.map((_, i) => stored.get(i + 1));
}

export type SendStoreOptions = {
  batch?: { maxBatch: number; maxConcurrent: number };
  /**
   * Attachment bytes read from spooled files for their insert draw on the body budget: with many large uploads at
   * once, each waits for its turn instead of all of them reading their files together (upload memory stays flat).
   */
  memory?: Pick<BodyMemory, 'withBytes'>;
  secretsKey?: Buffer;
};

export function createSendStore(knex: Knex, o: SendStoreOptions = {}): SendStore {
  // Requests without attachments or a requestId share statements while the database is busy (group commit).
  const many = (items: HotWrite[]) => insertMessagesEventsJobs(knex, items);
  const withBytes = o.memory ? o.memory.withBytes.bind(o.memory) : <T>(_n: number, fn: () => Promise<T>) => fn();
  const insertHot = o.batch
    ? groupCommit<HotWrite, number | undefined>(many, async (i) => (await many([i]))[0], o.batch)
    : async (i: HotWrite) => (await many([i]))[0];

  async function storeInTransaction(m: NewMessage, keys: DedupKeys): Promise<StoreResult> {
    try {
      return await knex.transaction(async (trx) => {
        const [messageId] = (await insertMessagesEventsJobs(trx, [{ m, keys: { payloadHash: '', windowMs: keys.windowMs } }])) as [number];
        await claimKeys(trx, m.clientId, messageId, keys);
        const inMemory = m.attachments.flatMap((a, seq) => (Buffer.isBuffer(a.content) ? [attachmentRow(messageId, seq, a, a.content)] : []));
        if (inMemory.length) await trx('attachments').insert(inMemory);
        // A spooled file is read only for its own insert, so a request holds about one attachment in memory at a time.
        for (const [seq, a] of m.attachments.entries()) {
          const f = a.content;
          if (f instanceof SpooledFile) await withBytes(f.size, async () => trx('attachments').insert(attachmentRow(messageId, seq, a, await readSpooled(f))));
        }
        return { messageId, duplicate: false };
      });
    } catch (e) {
      if (e instanceof DuplicateFound) return { messageId: e.messageId, duplicate: true };
      throw e;
    }
  }

  return {
    async findClient(key) {
      const r = await knex('clients').where({ key_hash: keyHash(key) }).first();
      return r ? clientFromRow(r, o.secretsKey) : undefined;
    },

    async findTemplate(clientId, messageType, version) {
      const q = knex('templates').where({ client_id: clientId, message_type: messageType });
      // An explicit version may be an inactive one (old messages, replays); without one, the newest active.
      const r = version !== undefined ? await q.andWhere({ version }).first() : await q.andWhere({ active: true }).orderBy('version', 'desc').first();
      return r ? templateFromRow(r) : undefined;
    },

    async messageExists(clientId, messageId) {
      return !!(await knex('messages').where({ client_id: clientId, id: messageId }).first('id'));
    },

    async storeMessage(m: NewMessage, keys: DedupKeys): Promise<StoreResult> {
      if (m.attachments.length === 0 && !keys.requestId && !keys.delivery) {
        const messageId = await insertHot({ m, keys });
        if (messageId !== undefined) return { messageId, duplicate: false };
        // The key was already taken: the transactional path answers with the first message, or the conflict.
      }
      return storeInTransaction(m, keys);
    },

    async loadMessage(clientId, messageId) {
      const r = await knex('messages').where({ client_id: clientId, id: messageId }).first();
      if (!r) return undefined;
      const atts = await knex('attachments').where({ message_id: messageId }).orderBy('seq');
      return contentFromRows(r, atts);
    },
  };
}
