// Per-client rate limit (issue 15 point 5): requests per second a client may make; null is unlimited, the default.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.integer('rate_limit_per_second');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => t.dropColumn('rate_limit_per_second'));
}
