// The embedded database's first start: PGlite's initdb takes seconds, so the build makes a migrated, empty
// data directory once and a fresh ./data/db starts from a copy of it (issue: cold start under 3 s).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { migrations } from '../../migrations/index.js';
import { projectRoot } from './fixtures.js';

/** The template fits one PGlite version and one list of migrations; anything else is made anew. */
export function templatePath(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'));
  const key = createHash('sha256').update(`${pkg.version}|${Object.keys(migrations).sort().join(',')}`).digest('hex').slice(0, 12);
  return path.join(projectRoot(), 'dist', `pglite-template-${key}`);
}

export function embeddedKnex(pglite: PGlite): Knex {
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: 'postgres', connection: { pglite } as object, useNullAsDefault: true } as Knex.Config);
}

/** Opens ./data/db, copied from the template when the folder is new (a file copy beats initdb tenfold). */
export function openPglite(dir: string): PGlite {
  const template = templatePath();
  if (!fs.existsSync(path.join(dir, 'PG_VERSION')) && fs.existsSync(path.join(template, 'PG_VERSION'))) {
    fs.cpSync(template, dir, { recursive: true });
  }
  return new PGlite(dir);
}

async function build(): Promise<void> {
  const dir = templatePath();
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  const { migrate } = await import('./db.js');
  const work = `${dir}.${process.pid}.tmp`;
  fs.rmSync(work, { recursive: true, force: true });
  const knex = embeddedKnex(await PGlite.create(work));
  await migrate({ knex, embedded: true });
  await knex.destroy();
  for (const old of fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith('pglite-template-') && path.join(path.dirname(dir), f) !== work)) fs.rmSync(path.join(path.dirname(dir), old), { recursive: true, force: true });
  fs.renameSync(work, dir);
  console.log(`embedded database template: ${path.relative(projectRoot(), dir)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  build().catch((e) => {
    console.error('embedded database template not made (the first embedded start will take longer):', e.message);
  });
}
