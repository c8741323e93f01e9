// Secrets at rest (issue 15 point 3): client keys only as SHA-256, JWT secrets only sealed with SECRETS_KEY, a
// migration that converts existing rows, and a start that refuses to run on secrets in clear without the key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { SignJWT } from 'jose';
import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.js';
import { migrate, openDb, type Db } from '../../src/store/db.js';
import { api, problemMessages } from '../helpers/api.js';
import { DEMO_KEY, PG_URL, startTestGateway, tempDir, TEST_SECRETS_KEY, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/rest.js';
import { envelope, postSoap } from '../helpers/soap.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const TOKEN = 'test-admin-token-secrets-91b';
const CLIENTS = '/hammy/admin/v1/clients';
const admin = { authorization: `Bearer ${TOKEN}` };
const SECRET = 'hs256-shared-secret-of-the-integrator-0123456789';
const doc = (attributes: Record<string, unknown>) => ({ data: { type: 'clients', attributes } });
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hs256 = (secret = SECRET) => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
const direct = { recipientName: 'Titok', recipientEmailAddress: 't@example.com', mailSubject: 'Tárgy', mailBody: 'Szöveg' };
const everyValue = (rows: Record<string, unknown>[]) => JSON.stringify(rows);

/** A schema migrated only as far as `last` (the old layout), for rows written the old way. */
async function oldSchema(last: string): Promise<{ db: Db; schema: string }> {
  const schema = `s_${randomBytes(5).toString('hex')}`;
  const db = await openDb({ databaseUrl: PG_URL, dataDir: tempDir(), schema, poolMax: 2 });
  await db.knex.raw('create schema ??', [schema]);
  const names = Object.keys(migrations).sort().filter((n) => n <= last);
  const source: Knex.MigrationSource<string> = { getMigrations: async () => names, getMigrationName: (n) => n, getMigration: async (n) => migrations[n]! };
  await db.knex.migrate.latest({ migrationSource: source, schemaName: schema });
  return { db, schema };
}
const dropped = async (db: Db, schema: string) => {
  await db.knex.raw('drop schema if exists ?? cascade', [schema]);
  await db.knex.destroy();
};

/** `npm start` on that schema: its exit code and what it printed. */
function start(schema: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, DATABASE_URL: PG_URL, DB_SCHEMA: schema, DATA_DIR: tempDir(), AMQP_URL: 'off', PORT: '0', FIXTURES: 'none', WORKER_THREAD: 'false', ...env },
    encoding: 'utf8',
    timeout: 40000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('secrets at rest', function () {
  this.timeout(60000);

  describe('with SECRETS_KEY', () => {
    let gw: TestGateway;
    let made: { id: string; key: string };
    before(async () => {
      gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
      const r = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'HS', defaultFromAddress: 'hs@example.com', jwtRequired: true, jwtAlgorithms: ['HS256'], jwtSecret: SECRET }) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      made = { id: r.body.data.id, key: r.body.data.attributes.hashKey };
    });
    after(async () => gw?.stop());

    it('the database holds no client key in clear: only its SHA-256, and the key still authenticates', async () => {
      const rows = await gw.db.knex('clients').select('*');
      for (const key of [made.key, DEMO_KEY]) assert.ok(!everyValue(rows).includes(key), `no column holds the key ${key.slice(0, 4)}…`);
      const own = rows.find((r) => String(r.id) === made.id)!;
      assert.equal(own.key_hash, sha256(made.key));
      const ok = await postJson(gw.url, direct, { 'X-Client-Hash-Key': made.key, Authorization: `JWT ${await hs256()}` });
      assert.equal(ok.json.meta.responseStatus.code, 0, ok.text);
      const byHash = await postJson(gw.url, direct, { 'X-Client-Hash-Key': own.key_hash, Authorization: `JWT ${await hs256()}` });
      assert.equal(byHash.json.meta.responseStatus.code, 2, 'the stored hash is no key');
    });

    it('the JWT secret is stored sealed (enc:v1:), HS256 tokens still verify, and no answer shows it', async () => {
      const row = await gw.db.knex('clients').where({ id: made.id }).first();
      assert.match(row.jwt_secret, /^enc:v1:/);
      assert.ok(!everyValue([row]).includes(SECRET));
      const bad = await postJson(gw.url, direct, { 'X-Client-Hash-Key': made.key, Authorization: `JWT ${await hs256('another-secret-of-the-same-length-0123456789')}` });
      assert.equal(bad.json.meta.responseStatus.code, 2);
      assert.ok(!bad.text.includes(SECRET) && !bad.text.includes('enc:v1'));
      const shown = await api(gw.url, `${CLIENTS}/${made.id}`, { headers: admin });
      assert.equal(shown.body.data.attributes.jwtSecretSet, true);
      const list = await api(gw.url, CLIENTS, { headers: admin });
      for (const text of [JSON.stringify(shown.body), JSON.stringify(list.body)]) {
        assert.ok(!text.includes(SECRET) && !text.includes('enc:v1') && !text.includes(made.key) && !text.includes(row.key_hash), 'GET shows neither key nor secret');
      }
      // A new secret through PATCH is sealed too, and the old one stops verifying.
      const other = 'a-second-hs256-secret-for-the-same-client-42';
      assert.equal((await api(gw.url, `${CLIENTS}/${made.id}`, { headers: admin, method: 'PATCH', body: doc({ jwtSecret: other }) })).status, 200);
      assert.match((await gw.db.knex('clients').where({ id: made.id }).first()).jwt_secret, /^enc:v1:/);
      const next = await postJson(gw.url, direct, { 'X-Client-Hash-Key': made.key, Authorization: `JWT ${await hs256(other)}` });
      assert.equal(next.json.meta.responseStatus.code, 0, next.text);
    });

    it('a JWT secret written in clear around the API is sealed at the next start and keeps working', async () => {
      await gw.db.knex('clients').where({ id: made.id }).update({ jwt_secret: SECRET });
      await gw.halt();
      const again = await startTestGateway({ ADMIN_TOKEN: TOKEN, DB_SCHEMA: gw.schema });
      try {
        assert.match((await again.db.knex('clients').where({ id: made.id }).first()).jwt_secret, /^enc:v1:/);
        const ok = await postJson(again.url, direct, { 'X-Client-Hash-Key': made.key, Authorization: `JWT ${await hs256()}` });
        assert.equal(ok.json.meta.responseStatus.code, 0, ok.text);
      } finally {
        await again.halt();
        await again.smtp.stop();
      }
    });
  });

  describe('without SECRETS_KEY', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, SECRETS_KEY: '' });
    });
    after(async () => gw?.stop());

    it('the admin API refuses to store a jwtSecret: 400 code 1 on jwtSecret, saying SECRETS_KEY or a public key', async () => {
      const before = await gw.db.knex('clients').count('* as n').first();
      const r = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'HS', defaultFromAddress: 'hs@example.com', jwtAlgorithms: ['HS256'], jwtSecret: SECRET }) });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 1);
      const m = problemMessages(r.body);
      assert.deepEqual(m.map((x: any) => x.field), ['jwtSecret']);
      assert.match(m[0].text, /SECRETS_KEY must be set/);
      assert.match(m[0].text, /jwtPublicKey/);
      assert.ok(!JSON.stringify(r.body).includes(SECRET));
      assert.deepEqual(await gw.db.knex('clients').count('* as n').first(), before, 'nothing created');
      const plain = await api(gw.url, CLIENTS, { headers: admin, body: doc({ name: 'Plain', defaultFromAddress: 'p@example.com' }) });
      assert.equal(plain.status, 201);
      const patched = await api(gw.url, `${CLIENTS}/${plain.body.data.id}`, { headers: admin, method: 'PATCH', body: doc({ jwtAlgorithms: ['HS256'], jwtSecret: SECRET }) });
      assert.equal(patched.status, 400);
      assert.deepEqual(problemMessages(patched.body).map((x: any) => x.field), ['jwtSecret']);
      assert.equal((await gw.db.knex('clients').where({ id: plain.body.data.id }).first()).jwt_secret, null);
    });
  });

  describe('migration 006 and the start', () => {
    it('converts a client key stored the old way: the old key still authenticates over SOAP, and a second migration changes nothing', async () => {
      const { db, schema } = await oldSchema('004_job_order');
      try {
        await db.knex('clients').insert({ hash_key: 'old-way-key-0001', name: 'Régi', default_from_address: 'regi@example.com' });
        const applied = await migrate(db);
        assert.ok(applied.includes('006_secrets_at_rest'));
        const rows = await db.knex('clients').select('*');
        assert.equal(rows[0].key_hash, sha256('old-way-key-0001'));
        assert.ok(!('hash_key' in rows[0]), 'the plaintext column is gone');
        assert.ok(!everyValue(rows).includes('old-way-key-0001'));
        const columns = async () => db.knex('information_schema.columns').where({ table_schema: schema, table_name: 'clients' }).orderBy('column_name').pluck('column_name');
        const before = await columns();
        assert.deepEqual(await migrate(db), []);
        assert.deepEqual(await columns(), before);
        assert.deepEqual(await db.knex('clients').select('*'), rows);
        const gw = await startTestGateway({ DB_SCHEMA: schema, FIXTURES: 'none' });
        try {
          const r = await postSoap(gw.url, envelope('sendMail', { clientHashKey: 'old-way-key-0001', ...direct }));
          assert.equal(r.code, 0, r.raw);
        } finally {
          await gw.halt();
          await gw.smtp.stop();
        }
      } finally {
        await dropped(db, schema);
      }
    });

    it('a start on JWT secrets in clear without SECRETS_KEY stops, naming SECRETS_KEY and the clients, never the secret', async () => {
      const { db, schema } = await oldSchema('004_job_order');
      try {
        await db.knex('clients').insert({ hash_key: 'old-jwt-key-0001', name: 'HS', default_from_address: 'hs@example.com', jwt_algorithms: 'HS256', jwt_secret: SECRET });
        const id = (await db.knex('clients').first('id')).id;
        const r = start(schema, {});
        assert.notEqual(r.status, 0);
        assert.match(r.output, /SECRETS_KEY must be set/);
        assert.match(r.output, new RegExp(`clients ${id}\\b`));
        assert.ok(!r.output.includes(SECRET), 'the secret is not printed');
        assert.equal((await db.knex('clients').first('jwt_secret')).jwt_secret, SECRET, 'nothing changed');
        // Sealed by a start with the key; then a start with another key stops too, and one without any key.
        const sealing = await startTestGateway({ DB_SCHEMA: schema, FIXTURES: 'none', SECRETS_KEY: TEST_SECRETS_KEY });
        await sealing.halt();
        await sealing.smtp.stop();
        assert.match((await db.knex('clients').first('jwt_secret')).jwt_secret, /^enc:v1:/);
        const none = start(schema, {});
        assert.notEqual(none.status, 0);
        assert.match(none.output, /SECRETS_KEY must be set: the JWT secrets of clients \d+ are encrypted/);
        const wrong = start(schema, { SECRETS_KEY: 'a-completely-different-passphrase-for-this-test' });
        assert.notEqual(wrong.status, 0);
        assert.match(wrong.output, /SECRETS_KEY does not open the JWT secrets of clients/);
      } finally {
        await dropped(db, schema);
      }
    });
  });
});
