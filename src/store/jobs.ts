// The delivery job table: claim due jobs with SKIP LOCKED, then settle each with a status event (STYLE §3).
import type { Knex } from 'knex';
import type { StoredMessage } from '../core/delivery.js';
import { groupCommit } from './group-commit.js';
import { prepared } from './prepared.js';
import { byteaBlobs, type BlobsOf } from './attachment-blobs.js';
import { loadAttachments } from './attachments.js';
import { contentFromRows, MESSAGE_COLUMNS } from './message-rows.js';

/**
 * A claimed job; `message` comes along when it has no attachments (null: the message is gone), else it is loaded on
 * its own. `epoch` names this claim (each claim bumps it): settles and renewals count only for the claim they belong
 * to. `takenFrom`: the worker whose lease on the job had expired (it may have sent the message already).
 */
export type ClaimedJob = { id: number; messageId: number; attempts: number; epoch: number; takenFrom?: string; message?: StoredMessage | null };

// The message columns a claim returns, named (not m.*): the claim is a prepared statement (store/prepared.ts).
const CLAIM_COLUMNS = MESSAGE_COLUMNS.map((c) => `m.${c}`).join(', ');

export function createJobStore(knex: Knex, blobsOf: BlobsOf = byteaBlobs) {
  // Each settle is one statement: the job, the message's status and its event change together, and only
  // while this worker still holds this claim of the job (a lease lost, and perhaps taken over, is not ours to settle).
  const settled = async (q: Knex.Raw) => (await q).rows[0].n > 0;
  type Finish = { job: ClaimedJob; workerId: string; status: string; reason: string | null };
  // Deliveries that end while the database is busy settling others share the next statement (group commit);
  // one statement at a time, so each carries more: a settle's latency matters less than an accept's.
  const finishMany = async (items: Finish[]): Promise<boolean[]> => {
    const r = await knex.raw(
      `with v(job_id, epoch, worker_id, status, reason) as (values ${items.map(() => '(?::bigint, ?::int, ?::text, ?::text, ?::text)').join(', ')}),
            d as (delete from jobs j using v where j.id = v.job_id and j.lease_epoch = v.epoch and j.locked_by = v.worker_id
                  returning j.id as job_id, j.message_id, v.status, v.reason),
            u as (update messages m set status = d.status, updated_at = now() from d where m.id = d.message_id),
            e as (insert into message_events (message_id, status, reason) select message_id, status, reason from d)
       select job_id from d`,
      items.flatMap((i) => [i.job.id, i.job.epoch, i.workerId, i.status, i.reason]),
    ).options(prepared(knex, `hammy_settle_${items.length}`)); // one text per batch size
    const done = new Set(r.rows.map((x: { job_id: number }) => Number(x.job_id)));
    return items.map((i) => done.has(i.job.id));
  };
  const finishBatched = groupCommit(finishMany, async (i: Finish) => (await finishMany([i]))[0]!, { maxBatch: 64, maxConcurrent: 1 });
  const finish = (job: ClaimedJob, workerId: string, status: string, reason: string | null) => finishBatched({ job, workerId, status, reason });

  return {
    /**
     * Leases up to `limit` due jobs for leaseMs; a job whose lease expired is taken over (its worker died or stalled
     * mid-send). `holding`: the jobs this worker is still delivering or settling; their lease may have run out while
     * the database was away, but they are not taken back by the worker that runs them (it would send them twice).
     */
    async claimDueJobs(workerId: string, limit: number, leaseMs: number, holding: number[] = []): Promise<ClaimedJob[]> {
      // The messages come with their jobs in the same round trip; attachments (any size) are read one message at a time.
      // The limit is written into the prepared statement's text (one per limit): told it as a parameter, PostgreSQL's
      // generic plan guessed a tenth of the table and scanned all of jobs and messages.
      // A lock without lease_until (taken by a gateway older than leases) lasts leaseMs from when it was taken.
      const n = Math.max(1, Math.floor(limit));
      const r = await knex.raw(
        `with s as (
           select id, locked_by as was_locked_by from jobs
            where run_at <= now() and (locked_by is null or coalesce(lease_until, locked_at + (? * interval '1 millisecond')) < now())
              and not (id = any(?::bigint[]))
            order by run_at, id
            limit ${n}
            for update skip locked),
         c as (
           update jobs j set locked_by = ?, locked_at = now(), lease_until = now() + (? * interval '1 millisecond'),
                  attempts = j.attempts + 1, lease_epoch = j.lease_epoch + 1
             from s where j.id = s.id
            returning j.id, j.message_id, j.attempts, j.lease_epoch, s.was_locked_by)
         select c.id as job_id, c.message_id as job_message_id, c.attempts as job_attempts, c.lease_epoch as job_epoch, c.was_locked_by,
                exists (select 1 from attachments a where a.message_id = c.message_id) as has_attachments, m.id, ${CLAIM_COLUMNS}
           from c left join messages m on m.id = c.message_id
          order by c.id`,
        [leaseMs, holding, workerId, leaseMs],
      ).options(prepared(knex, `hammy_claim_${n}`));
      return r.rows.map((x: any) => ({
        id: Number(x.job_id),
        messageId: Number(x.job_message_id),
        attempts: x.job_attempts,
        epoch: x.job_epoch,
        takenFrom: x.was_locked_by ?? undefined,
        message: x.id === null ? null : x.has_attachments ? undefined : { id: Number(x.id), ...contentFromRows(x, []) },
      }));
    },

    /**
     * How many due jobs wait for a worker and how many a worker holds, looking at no more than the first `look`
     * jobs in claim order (workers take jobs in that order, so the held ones are among the first): a bounded
     * read however long the queue is, for intake flow control.
     */
    async backlog(look: number): Promise<{ waiting: number; running: number }> {
      const r = await knex.raw(
        `select count(*)::int as due,
                count(*) filter (where locked_by is not null and lease_until >= now())::int as running
           from (select locked_by, lease_until from jobs where run_at <= now() order by run_at, id limit ?) j`,
        [look],
      );
      const { due, running } = r.rows[0];
      return { waiting: due - running, running };
    },

    /**
     * Extends the leases this worker holds by leaseMs from now (its heartbeat); answers the ids it still holds. A job
     * missing from the answer was taken over, or settled by another worker, after its lease expired.
     */
    async renewLeases(workerId: string, jobs: Pick<ClaimedJob, 'id' | 'epoch'>[], leaseMs: number): Promise<Set<number>> {
      if (jobs.length === 0) return new Set();
      const r = await knex.raw(
        `with v(job_id, epoch) as (values ${jobs.map(() => '(?::bigint, ?::int)').join(', ')})
         update jobs j set lease_until = now() + (? * interval '1 millisecond')
           from v where j.id = v.job_id and j.lease_epoch = v.epoch and j.locked_by = ?
         returning j.id`,
        [...jobs.flatMap((j) => [j.id, j.epoch]), leaseMs, workerId],
      );
      return new Set(r.rows.map((x: { id: number | string }) => Number(x.id)));
    },

    async loadForDelivery(messageId: number): Promise<StoredMessage | undefined> {
      const r = await knex('messages').where({ id: messageId }).first();
      if (!r) return undefined;
      return { id: Number(r.id), ...contentFromRows(r, await loadAttachments(knex, blobsOf(knex), messageId)) };
    },

    markSent(job: ClaimedJob, workerId: string, ref: string | undefined, status: 'SENT' | 'ARCHIVED' = 'SENT') {
      return finish(job, workerId, status, ref ?? null);
    },

    markRetry(job: ClaimedJob, workerId: string, reason: string, delayMs: number) {
      return settled(
        knex.raw(
          `with j as (update jobs set locked_by = null, locked_at = null, lease_until = null, last_error = ?, run_at = now() + (? * interval '1 millisecond')
                       where id = ? and lease_epoch = ? and locked_by = ? returning message_id),
                u as (update messages set status = 'RETRYING', updated_at = now() where id in (select message_id from j)),
                e as (insert into message_events (message_id, status, reason) select message_id, 'RETRYING', ? from j)
           select count(*)::int as n from j`,
          [reason, delayMs, job.id, job.epoch, workerId, reason],
        ),
      );
    },

    markFailed(job: ClaimedJob, workerId: string, reason: string) {
      return finish(job, workerId, 'FAILED', reason);
    },

    /**
     * Records a step's event once per message (a re-run after a crash, or a worker that took over the lease, finds it
     * there): one statement, the unique index message_events_archived_once (migration 009) deciding which insert wins.
     */
    async recordEventOnce(messageId: number, status: 'ARCHIVED', reason: string) {
      await knex.raw(
        `with e as (insert into message_events (message_id, status, reason) values (?, ?, ?)
                      on conflict (message_id) where status = 'ARCHIVED' do nothing returning message_id)
         update messages set status = ?, updated_at = now() where id in (select message_id from e)`,
        [messageId, status, reason, status],
      );
    },
  };
}
export type JobStore = ReturnType<typeof createJobStore>;
