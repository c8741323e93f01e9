// Job leases (issue 16): a claim holds a job until lease_until, renewed by the delivering worker's heartbeat, and
// each claim bumps lease_epoch, so a settle can require the very claim it belongs to. Also: created_at indexes for
// the purge of expired idempotency records, and what the append-only print manifest needs to know.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.integer('lease_epoch').notNullable().defaultTo(0);
    t.timestamp('lease_until', { useTz: true });
  });
  // A job locked before this migration keeps the 5-minute lock it was given.
  await knex.raw(`update jobs set lease_until = locked_at + interval '5 minutes' where locked_at is not null`);
  await knex.schema.alterTable('idempotency_keys', (t) => t.index(['created_at']));
  await knex.schema.alterTable('request_keys', (t) => t.index(['created_at']));
  // in_manifest: the letter's line is in its batch's manifest.csv; bytes: the length of that file when its last
  // append was committed (a longer file holds a crashed append, cut off before the next one).
  await knex.schema.alterTable('print_items', (t) => t.boolean('in_manifest').notNullable().defaultTo(false));
  await knex.raw('create index print_items_manifest_pending on print_items (batch_key) where not in_manifest');
  await knex.schema.createTable('print_manifests', (t) => {
    t.text('batch_key').primary();
    t.bigInteger('bytes').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('print_manifests');
  await knex.raw('drop index if exists print_items_manifest_pending');
  await knex.schema.alterTable('print_items', (t) => t.dropColumn('in_manifest'));
  await knex.schema.alterTable('request_keys', (t) => t.dropIndex(['created_at']));
  await knex.schema.alterTable('idempotency_keys', (t) => t.dropIndex(['created_at']));
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('lease_until');
    t.dropColumn('lease_epoch');
  });
}
