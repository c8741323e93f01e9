// Embedded PostgreSQL (PGlite) under knex: one connection, so transactions queue (STYLE §7).
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { prepareDataDir } from './embedded-dir.js';

export function embeddedKnex(pglite: PGlite): Knex {
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: 'postgres', connection: { pglite } as object, useNullAsDefault: true } as Knex.Config);
}

/** Opens ./data/db, copied from the template when the folder is new. */
export async function openPglite(dir: string): Promise<PGlite> {
  await prepareDataDir(dir);
  fs.mkdirSync(dir, { recursive: true }); // without a template, PGlite's initdb fills it
  return new PGlite(dir);
}
