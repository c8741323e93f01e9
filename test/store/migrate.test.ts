// Migrations: an empty database migrates, and a second run changes nothing.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { migrations } from '../../migrations/index.js';
import { PGlite } from '@electric-sql/pglite';
import { migrate, openDb } from '../../src/store/db.js';
import { embeddedKnex } from '../../src/store/pglite.js';
import { PG_URL, tempDir } from '../helpers/gateway.js';

describe('migrations', () => {
  it('migrate an empty schema twice: the second run applies nothing and the tables stay', async () => {
    const schema = `m_${randomBytes(5).toString('hex')}`;
    const db = await openDb({ databaseUrl: PG_URL, dataDir: tempDir(), schema, poolMax: 2 });
    try {
      const first = await migrate(db);
      assert.deepEqual(first, Object.keys(migrations).sort());
      assert.ok(first.includes('006_secrets_at_rest'));
      assert.ok(first.includes('007_client_rate_limit'));
      assert.ok(first.includes('005_portal_keys'));
      assert.ok(first.includes('008_job_leases'));
      assert.ok(first.includes('009_postal_address_events_once'));
      const tables = async () =>
        (await db.knex('information_schema.tables').where({ table_schema: schema }).orderBy('table_name').pluck('table_name')) as string[];
      const before = await tables();
      assert.ok(before.includes('messages') && before.includes('jobs') && before.includes('idempotency_keys'));
      assert.deepEqual(await migrate(db), []);
      assert.deepEqual(await tables(), before);
    } finally {
      await db.knex.raw('drop schema if exists ?? cascade', [schema]);
      await db.knex.destroy();
    }
  });

  it('on the embedded PGlite too, migration 006 turns a key stored the old way into its SHA-256', async () => {
    // A database of its own in memory: a new data folder would start from the build's template, migrated to the end.
    const db = { knex: embeddedKnex(await PGlite.create()), embedded: true };
    try {
      const upTo004 = Object.keys(migrations).sort().filter((n) => n <= '004_job_order');
      await db.knex.migrate.latest({ migrationSource: { getMigrations: async () => upTo004, getMigrationName: (n: string) => n, getMigration: async (n: string) => migrations[n]! } });
      await db.knex('clients').insert({ hash_key: 'árvíztűrő-key', name: 'Régi', default_from_address: 'r@example.com' });
      assert.ok((await migrate(db)).includes('006_secrets_at_rest'));
      const row = await db.knex('clients').first('*');
      assert.equal(row.key_hash, createHash('sha256').update('árvíztűrő-key', 'utf8').digest('hex'));
      assert.equal(row.hash_key, undefined);
      assert.deepEqual(await migrate(db), []);
    } finally {
      await db.knex.destroy();
    }
  });

  it('on the embedded PGlite, migration 009 keeps the first of duplicate ARCHIVED events, adds postal_address and drops letter_layout', async () => {
    const db = { knex: embeddedKnex(await PGlite.create()), embedded: true };
    try {
      const upTo008 = Object.keys(migrations).sort().filter((n) => n <= '008_job_leases');
      await db.knex.migrate.latest({ migrationSource: { getMigrations: async () => upTo008, getMigrationName: (n: string) => n, getMigration: async (n: string) => migrations[n]! } });
      const [client] = await db.knex('clients').insert({ key_hash: 'k', name: 'Régi', default_from_address: 'r@example.com' }).returning('id');
      const message = { client_id: client.id, status: 'ARCHIVED', channel: 'EMAIL', subject: 's', recipient_name: 'r', from_address: 'f@example.com', intake: 'soap' };
      const [a] = await db.knex('messages').insert(message).returning('id');
      const [b] = await db.knex('messages').insert(message).returning('id');
      await db.knex('message_events').insert(['first', 'raced', 'raced again'].map((reason) => ({ message_id: a.id, status: 'ARCHIVED', reason })));
      await db.knex('message_events').insert([{ message_id: a.id, status: 'RETRYING', reason: 'r1' }, { message_id: a.id, status: 'RETRYING', reason: 'r2' }, { message_id: b.id, status: 'ARCHIVED', reason: 'b' }]);
      assert.ok((await migrate(db)).includes('009_postal_address_events_once'));
      const reasons = async (id: number, status: string) => (await db.knex('message_events').where({ message_id: id, status }).orderBy('id').pluck('reason')) as string[];
      assert.deepEqual(await reasons(a.id, 'ARCHIVED'), ['first']);
      assert.deepEqual(await reasons(a.id, 'RETRYING'), ['r1', 'r2']);
      assert.deepEqual(await reasons(b.id, 'ARCHIVED'), ['b']);
      assert.equal(await db.knex.schema.hasColumn('templates', 'letter_layout'), false);
      assert.equal(await db.knex.schema.hasColumn('clients', 'postal_address'), true);
      assert.deepEqual(await migrate(db), []);
    } finally {
      await db.knex.destroy();
    }
  });
});
