// Migration 005 on both databases: messages stored before it each get their own random remote-content id.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.js';
import { migrate, openDb } from '../../src/store/db.js';
import { embeddedKnex } from '../../src/store/pglite.js';
import { PG_URL, tempDir } from '../helpers/gateway.js';

const upTo004: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).filter((m) => m < '005').sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};

async function existingRowsGetIds(knex: Knex, schemaName?: string) {
  await knex.migrate.latest({ migrationSource: upTo004, schemaName });
  const [client] = await knex('clients').insert({ hash_key: 'k', name: 'C', default_from_address: 'c@example.com' }).returning('id');
  const row = (channel: string) => ({ client_id: client.id ?? client, status: 'SENT', channel, subject: 's', recipient_name: 'r', from_address: 'c@example.com', intake: 'REST' });
  await knex('messages').insert([row('PORTAL'), row('PORTAL'), row('EMAIL')]);
  assert.equal((await migrate({ knex, embedded: false, schema: schemaName }))[0], '005_portal_keys');
  const ids = (await knex('messages').pluck('remote_content_id')) as string[];
  assert.equal(ids.length, 3);
  for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(new Set(ids).size, 3, 'each row its own id');
  assert.deepEqual(await migrate({ knex, embedded: false, schema: schemaName }), [], 'a second run changes nothing');
  await knex('messages').insert(row('PORTAL'));
  assert.equal(new Set(await knex('messages').pluck('remote_content_id')).size, 4, 'a new row gets one by default');
}

describe('migration 005 (portal keys, remote-content ids)', function () {
  this.timeout(60000);
  it('on PostgreSQL', async () => {
    const schema = `m_${randomBytes(5).toString('hex')}`;
    const db = await openDb({ databaseUrl: PG_URL, dataDir: tempDir(), schema, poolMax: 2 });
    try {
      await db.knex.raw('create schema ??', [schema]);
      await existingRowsGetIds(db.knex, schema);
    } finally {
      await db.knex.raw('drop schema if exists ?? cascade', [schema]);
      await db.knex.destroy();
    }
  });
  it('on PGlite', async () => {
    const knex = embeddedKnex(await PGlite.create());
    try {
      await existingRowsGetIds(knex);
    } finally {
      await knex.destroy();
    }
  });
});
