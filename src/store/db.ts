// The database: knex on a real PostgreSQL when DATABASE_URL is set, else embedded PGlite under DATA_DIR/db.
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import { migrations } from '../../migrations/index.js';
import { embeddedKnex, openPglite } from './pglite.js';

// BIGINT ids and counts come back as numbers (ids stay far below 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

export type Db = { knex: Knex; embedded: boolean; schema?: string };

export type DbOptions = { databaseUrl?: string; dataDir: string; schema?: string; poolMax: number; log?: Logger };

/** knex's own warnings (a lost connection while the database restarts) go to our logs, not to stdout. */
function knexLog(log: Logger | undefined): Knex.Config['log'] | undefined {
  if (!log) return undefined;
  const l = log.child({ part: 'database' });
  return { warn: (m: unknown) => l.warn({ detail: String(m) }, 'database'), error: (m: unknown) => l.error({ detail: String(m) }, 'database'), deprecate: () => undefined, debug: () => undefined };
}

export async function openDb(o: DbOptions): Promise<Db> {
  if (o.databaseUrl) {
    const knex = knexFactory({
      client: 'pg',
      connection: o.databaseUrl,
      searchPath: o.schema ? [o.schema] : undefined,
      pool: { min: 0, max: o.poolMax },
      log: knexLog(o.log),
    });
    return { knex, embedded: false, schema: o.schema };
  }
  const dir = path.join(o.dataDir, 'db');
  const knex = embeddedKnex(await openPglite(dir));
  return { knex, embedded: true };
}

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};

/** Creates the schema if asked for one, then runs every pending migration (SPEC §9: migrations run at start). */
export async function migrate(db: Db): Promise<string[]> {
  if (db.schema) await db.knex.raw('create schema if not exists ??', [db.schema]);
  const [, applied] = await db.knex.migrate.latest({ migrationSource, schemaName: db.schema });
  return applied as string[];
}
