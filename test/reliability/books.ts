// Balancing the books after a fault: every accepted message ends delivered or FAILED with a reason; none lost, duplicates counted.
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import type { SmtpSink } from '../helpers/smtp-sink.js';

export type Books = { accepted: number; sent: number; failed: number; archived: number; lost: number; duplicates: number; mails: number };

const FINAL = ['SENT', 'FAILED', 'ARCHIVED', 'READ', 'DELIVERED'];

/** Waits until every accepted message is final, then counts; `lost` is an accepted id with no final state. */
export async function balance(knex: Knex, smtp: SmtpSink | undefined, acceptedIds: number[], ms = 60000): Promise<Books> {
  const ids = [...new Set(acceptedIds)];
  const until = Date.now() + ms;
  let rows: { id: number; status: string }[] = [];
  // Final = its delivery job is gone (an EMAIL message passes through ARCHIVED on its way to SENT).
  for (;;) {
    rows = ids.length ? await knex('messages').whereIn('id', ids).select('id', 'status') : [];
    const waiting = ids.length ? Number((await knex('jobs').whereIn('message_id', ids).count('* as n'))[0]!.n) : 0;
    if (rows.length === ids.length && waiting === 0 && rows.every((r) => FINAL.includes(r.status))) break;
    if (Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const byStatus = (s: string) => rows.filter((r) => r.status === s).length;
  const failedWithoutReason = ids.length
    ? await knex('messages as m')
        .where('m.status', 'FAILED')
        .whereIn('m.id', ids)
        .whereNotExists(knex('message_events as e').whereRaw('e.message_id = m.id').andWhere('e.status', 'FAILED').whereNotNull('e.reason'))
        .count('* as n')
    : [{ n: 0 }];
  assert.equal(Number(failedWithoutReason[0]!.n), 0, 'every FAILED message says why');
  const perMessage = new Map<string, number>();
  for (const m of smtp?.received ?? []) {
    const id = m.mail.headers.get('x-hammy-message-id') as string | undefined;
    if (id && ids.includes(Number(id))) perMessage.set(id, (perMessage.get(id) ?? 0) + 1);
  }
  const duplicates = [...perMessage.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
  return {
    accepted: ids.length,
    sent: byStatus('SENT'),
    failed: byStatus('FAILED'),
    archived: byStatus('ARCHIVED'),
    lost: ids.length - rows.filter((r) => FINAL.includes(r.status)).length,
    duplicates,
    mails: [...perMessage.values()].reduce((a, n) => a + n, 0),
  };
}
