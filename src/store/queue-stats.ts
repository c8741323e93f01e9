// The delivery queue as /metrics shows it: how many jobs, and how old the oldest is.
import type { Knex } from 'knex';

export function createQueueStats(knex: Knex) {
  return {
    async depth(): Promise<number> {
      return (await knex.raw('select count(*)::int as n from jobs')).rows[0].n;
    },
    async oldestAgeSeconds(): Promise<number> {
      return Number((await knex.raw('select coalesce(extract(epoch from now() - min(created_at)), 0) as s from jobs')).rows[0].s);
    },
  };
}
