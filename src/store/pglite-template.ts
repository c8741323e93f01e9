// The embedded database's first start: PGlite's initdb takes seconds, so the build makes a migrated, empty
// data directory once and a fresh ./data/db starts from a copy of it (embedded-dir.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { templatePath } from './embedded-dir.js';
import { migrate } from './db.js';
import { embeddedKnex } from './pglite.js';
import { projectRoot } from '../core/project-root.js';

async function build(): Promise<void> {
  const dir = templatePath();
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  const work = `${dir}.${process.pid}.tmp`;
  fs.rmSync(work, { recursive: true, force: true });
  try {
    const pglite = await PGlite.create(work);
    // The gateway uses the `postgres` database alone. initdb's template0 and template1 are two thirds of the
    // folder's files, and every fresh ./data/db would copy them; file creation is what the copy spends its time
    // on, so they go. A CREATE DATABASE would need them; nothing here runs one.
    for (const t of ['template0', 'template1']) {
      await pglite.exec(`alter database ${t} is_template false`);
      await pglite.exec(`drop database ${t}`); // alone: DROP DATABASE cannot run in a transaction block
    }
    const knex = embeddedKnex(pglite);
    await migrate({ knex, embedded: true });
    await knex.raw('checkpoint');
    await knex.destroy();
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    throw e;
  }
  for (const old of fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith('pglite-template-') && path.join(path.dirname(dir), f) !== work)) fs.rmSync(path.join(path.dirname(dir), old), { recursive: true, force: true });
  fs.renameSync(work, dir);
  console.log(`embedded database template: ${path.relative(projectRoot(), dir)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  build().catch((e) => {
    console.error('embedded database template not made (the first embedded start will take longer):', e.message);
  });
}
