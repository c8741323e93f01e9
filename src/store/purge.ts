// The purge of idempotency records past their window (issue 16): a few small statements at a time, so the tables
// stay bounded without a long lock or a burst of I/O. Finished jobs need none: a settle deletes its job.
import type { Knex } from 'knex';

export const PURGE_BATCH = 1000;

/** Deletes up to `batch` expired rows from each idempotency table; answers how many went. */
export async function purgeExpiredKeys(knex: Knex, windowMs: number, batch = PURGE_BATCH): Promise<number> {
  let n = 0;
  for (const table of ['idempotency_keys', 'request_keys']) {
    // The oldest first (the created_at index), skipping rows an accept holds: an accept reusing an expired key
    // updates that row in place (store/send-store.ts).
    const r = await knex.raw(
      `delete from ?? where ctid in (
         select ctid from ?? where created_at < now() - (? * interval '1 millisecond') order by created_at limit ? for update skip locked)
       returning 1`,
      [table, table, windowMs, batch],
    );
    n += r.rows.length; // rows, not rowCount: the embedded driver (PGlite) reports no rowCount
  }
  return n;
}
