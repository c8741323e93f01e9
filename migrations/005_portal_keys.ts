// The portal remote-content API (SPEC §5, issue 15): per-client portal keys, stored only as their SHA-256, and a
// random remote-content id per message, so portal URLs name no enumerable messageId.
import type { Knex } from 'knex';

// 2 × 122 random bits of two v4 UUIDs as 64 hex characters; a volatile default, so every existing row gets its own
// when the column is added (PostgreSQL 13+ and PGlite have gen_random_uuid built in). The accept insert names no value.
const RANDOM_ID = "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('portal_keys', (t) => {
    t.increments('id');
    t.integer('client_id').notNullable().references('clients.id').onDelete('CASCADE');
    t.text('key_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.index(['client_id']);
  });
  await knex.schema.alterTable('messages', (t) => {
    t.text('remote_content_id').notNullable().defaultTo(knex.raw(RANDOM_ID));
  });
  // Only PORTAL messages are served by it, so only they need the index (the hot accept insert of the rest pays nothing).
  await knex.schema.alterTable('messages', (t) => {
    t.unique(['remote_content_id'], { indexName: 'messages_remote_content_id_portal', predicate: knex.whereRaw("channel = 'PORTAL'") });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    // The partial unique index is an index, not a constraint: it goes with its column.
    t.dropColumn('remote_content_id');
  });
  await knex.schema.dropTable('portal_keys');
}
