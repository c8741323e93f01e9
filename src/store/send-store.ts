// The SendStore the core declares, over knex: client and template lookups, and storing a message, on the shared
// statement (group commit) when it can, else in its own transaction.
import type { Knex } from 'knex';
import { keyHash } from '../core/secrets.js';
import { groupCommit } from './group-commit.js';
import type { BodyMemory } from '../core/memory-budget.js';
import type { DedupKeys, NewMessage, SendStore, StoreResult } from '../core/ports.js';
import { insertMessagesEventsJobs, type HotWrite } from './accept-insert.js';
import { byteaBlobs, type BlobsOf } from './attachment-blobs.js';
import { insertAttachments, loadAttachments } from './attachments.js';
import { claimKeys, DuplicateFound } from './idempotency-claims.js';
import { contentFromRows } from './message-rows.js';
import { clientFromRow, templateFromRow } from './rows.js';

export type SendStoreOptions = {
  batch?: { maxBatch: number; maxConcurrent: number };
  /**
   * Attachment bytes read from spooled files for their insert draw on the body budget: with many large uploads at
   * once, each waits for its turn instead of all of them reading their files together (upload memory stays flat).
   */
  memory?: Pick<BodyMemory, 'withBytes'>;
  secretsKey?: Buffer;
  /** Where attachment bytes live (bytea by default). */
  blobs?: BlobsOf;
};

export function createSendStore(knex: Knex, o: SendStoreOptions = {}): SendStore {
  const blobsOf = o.blobs ?? byteaBlobs;
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
        await insertAttachments(trx, blobsOf(trx), messageId, m.attachments, withBytes);
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
      return contentFromRows(r, await loadAttachments(knex, blobsOf(knex), messageId));
    },
  };
}
