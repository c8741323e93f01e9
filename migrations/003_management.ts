// Status, history and management APIs: indexes for per-client history paging and filters, and change times.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    // History is paged newest first within one client (SPEC §5): (client_id, id) serves both directions.
    t.index(['client_id', 'id']);
    t.index(['client_id', 'recipient_email_address']);
    t.index(['client_id', 'status']);
  });
  await knex.schema.alterTable('clients', (t) => {
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('key_rotated_at', { useTz: true });
  });
  await knex.schema.alterTable('templates', (t) => {
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('templates', (t) => t.dropColumn('updated_at'));
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('key_rotated_at');
    t.dropColumn('updated_at');
  });
  await knex.schema.alterTable('messages', (t) => {
    t.dropIndex(['client_id', 'status']);
    t.dropIndex(['client_id', 'recipient_email_address']);
    t.dropIndex(['client_id', 'id']);
  });
}
