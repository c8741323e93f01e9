// The idempotency claims of the transactional path (SPEC §6): IDEMPOTENCY_KEY, the AMQP delivery key, requestId.
import type { Knex } from 'knex';
import { IdempotencyConflict } from '../core/errors.js';
import type { DedupKeys } from '../core/ports.js';

/** Thrown inside the transaction to roll it back when an earlier message answers the request (SPEC §6). */
export class DuplicateFound extends Error {
  constructor(readonly messageId: number) {
    super('duplicate');
  }
}

/**
 * SPEC §6 under concurrency: the unique keys decide, not a read. A concurrent insert of the same key waits
 * for the first transaction; once it commits, ours sees the conflict and answers with the first messageId.
 */
export async function claimKeys(trx: Knex.Transaction, clientId: number, messageId: number, k: DedupKeys): Promise<void> {
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
