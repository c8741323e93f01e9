// The accept statement: messages, their RECEIVED and QUEUED events and delivery jobs, and idempotency keys, in one CTE.
import type { Knex } from 'knex';
import type { DedupKeys, NewMessage } from '../core/ports.js';
import { MESSAGE_COLUMNS, messageRow, TYPED_ROW } from './message-rows.js';
import { prepared } from './prepared.js';
import { CannotShare } from './group-commit.js';
import type { Row } from './rows.js';

export type HotWrite = { m: NewMessage; keys: DedupKeys };

/**
 * Messages, each with its RECEIVED and QUEUED events and its delivery job, in one statement (STYLE §3): one
 * message on the transactional path, many when requests share a statement. The ids are drawn first, in a CTE
 * that runs once, so each row's id is known by its position. A message with an IDEMPOTENCY_KEY is written only
 * if its key is claimed in the same statement; for one whose key is taken the answer is undefined, and the
 * caller takes the transactional path, which finds the first message (SPEC §6). Attachments and requestId
 * keys are the transactional path's (the key claim here is for the idempotency key only).
 */
export async function insertMessagesEventsJobs(db: Knex | Knex.Transaction, items: HotWrite[]): Promise<(number | undefined)[]> {
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
