// The delivery job table: claim due jobs with SKIP LOCKED, then settle each with a status event (STYLE §3).
import type { Knex } from 'knex';
import type { MessageContent } from '../core/ports.js';
import { contentFromRows } from './send-store.js';

export type ClaimedJob = { id: number; messageId: number; attempts: number };
export type DeliveryMessage = MessageContent & { id: number };

export function createJobStore(knex: Knex) {
  /** Sets the message's status and records the event, in the caller's transaction. */
  async function record(trx: Knex.Transaction, messageId: number, status: string, reason: string | null) {
    await trx('messages').where({ id: messageId }).update({ status, updated_at: trx.fn.now() });
    await trx('message_events').insert({ message_id: messageId, status, reason });
  }

  // Each settle is one statement: the job, the message's status and its event change together, and only
  // while this worker still holds the job (a lock lost to a timeout is not ours to settle).
  const settled = async (q: Knex.Raw) => (await q).rows[0].n > 0;
  const finish = (job: ClaimedJob, workerId: string, status: string, reason: string | null) =>
    settled(
      knex.raw(
        `with d as (delete from jobs where id = ? and locked_by = ? returning message_id),
              u as (update messages set status = ?, updated_at = now() where id in (select message_id from d)),
              e as (insert into message_events (message_id, status, reason) select message_id, ?, ? from d)
         select count(*)::int as n from d`,
        [job.id, workerId, status, status, reason],
      ),
    );

  return {
    /** Locks up to `limit` due jobs; a lock older than lockTimeoutMs is taken over (the worker died mid-send). */
    async claimDueJobs(workerId: string, limit: number, lockTimeoutMs: number): Promise<ClaimedJob[]> {
      const r = await knex.raw(
        `update jobs set locked_by = ?, locked_at = now(), attempts = attempts + 1
          where id in (
            select id from jobs
             where run_at <= now() and (locked_at is null or locked_at < now() - (? * interval '1 millisecond'))
             order by run_at, id
             limit ?
             for update skip locked)
          returning id, message_id, attempts`,
        [workerId, lockTimeoutMs, limit],
      );
      return r.rows.map((x: any) => ({ id: Number(x.id), messageId: Number(x.message_id), attempts: x.attempts }));
    },

    /** Milliseconds until the next job is due, or undefined when none waits. */
    async nextDueInMs(): Promise<number | undefined> {
      const r = await knex.raw(`select extract(epoch from (min(run_at) - now())) * 1000 as ms from jobs where locked_at is null`);
      const ms = r.rows[0]?.ms;
      return ms === null || ms === undefined ? undefined : Math.max(0, Number(ms));
    },

    async loadForDelivery(messageId: number): Promise<DeliveryMessage | undefined> {
      const r = await knex('messages').where({ id: messageId }).first();
      if (!r) return undefined;
      const atts = await knex('attachments').where({ message_id: messageId }).orderBy('seq');
      return { id: Number(r.id), ...contentFromRows(r, atts) };
    },

    markSent(job: ClaimedJob, workerId: string, ref: string | undefined, status: 'SENT' | 'ARCHIVED' = 'SENT') {
      return finish(job, workerId, status, ref ?? null);
    },

    markRetry(job: ClaimedJob, workerId: string, reason: string, delayMs: number) {
      return settled(
        knex.raw(
          `with j as (update jobs set locked_by = null, locked_at = null, last_error = ?, run_at = now() + (? * interval '1 millisecond')
                       where id = ? and locked_by = ? returning message_id),
                u as (update messages set status = 'RETRYING', updated_at = now() where id in (select message_id from j)),
                e as (insert into message_events (message_id, status, reason) select message_id, 'RETRYING', ? from j)
           select count(*)::int as n from j`,
          [reason, delayMs, job.id, workerId, reason],
        ),
      );
    },

    markFailed(job: ClaimedJob, workerId: string, reason: string) {
      return finish(job, workerId, 'FAILED', reason);
    },

    /** Records a step's event once per message (a re-run after a crash finds it there). */
    async recordEventOnce(messageId: number, status: string, reason: string) {
      await knex.transaction(async (trx) => {
        const seen = await trx('message_events').where({ message_id: messageId, status }).first('id');
        if (!seen) await record(trx, messageId, status, reason);
      });
    },
  };
}
export type JobStore = ReturnType<typeof createJobStore>;
