// Migrations: an empty database migrates, and a second run changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { migrate, openDb } from '../../src/store/db.js';
import { PG_URL, tempDir } from '../helpers/gateway.js';

describe('migrations', () => {
  it('migrate an empty schema twice: the second run applies nothing and the tables stay', async () => {
    const schema = `m_${randomBytes(5).toString('hex')}`;
    const db = await openDb({ databaseUrl: PG_URL, dataDir: tempDir(), schema, poolMax: 2 });
    try {
      const first = await migrate(db);
      assert.deepEqual(first, ['001_initial', '002_channels', '003_management', '004_job_order', '008_job_leases']);
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
});
