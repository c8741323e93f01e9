// Secrets at rest and per-client folders (issue 15): a client's hash key is kept only as its SHA-256 (looked up by
// that), and a client gets its own folder name under SOURCE_DIR and ARCHIVE_DIR (null: `client-<id>`).
// JWT secrets stay in jwt_secret; the gateway seals the ones still in clear at start (needs SECRETS_KEY).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.text('key_hash');
    t.text('files_folder').unique();
  });
  await knex.raw(`update clients set key_hash = encode(sha256(convert_to(hash_key, 'UTF8')), 'hex')`);
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('hash_key');
    t.text('key_hash').notNullable().alter();
    t.unique(['key_hash']);
  });
}

// The keys cannot come back from their hashes: a rollback leaves every client without a working key until rotated.
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.text('hash_key');
    t.dropColumn('files_folder');
  });
  await knex.raw(`update clients set hash_key = 'rotate-me-' || id`);
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('key_hash');
    t.text('hash_key').notNullable().alter();
    t.unique(['hash_key']);
  });
}
