// The embedded database folder: made from the build's template, whole or not at all, and never over someone's files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { prepareDataDir, templatePath } from '../../src/store/embedded-dir.js';
import { tempDir } from '../helpers/gateway.js';

describe('embedded database folder (template copy)', function () {
  this.timeout(60000);
  before(function () {
    if (!fs.existsSync(path.join(templatePath(), 'PG_VERSION'))) throw new Error(`no template at ${templatePath()}: npm run build makes it`);
  });

  it('a new folder is a copy of the template, renamed into place: no work folder is left beside it', async () => {
    const parent = tempDir();
    const dir = path.join(parent, 'db');
    await prepareDataDir(dir);
    assert.ok(fs.existsSync(path.join(dir, 'PG_VERSION')));
    assert.deepEqual(fs.readdirSync(parent), ['db']);
    const db = await PGlite.create(dir);
    try {
      // Migrated already; initdb's template databases were left out of the template.
      assert.deepEqual((await db.query<{ datname: string }>('select datname from pg_database order by 1')).rows.map((r) => r.datname), ['postgres']);
      assert.ok((await db.query('select 1 from knex_migrations')).rows.length > 0);
    } finally {
      await db.close();
    }
  });

  it('an empty folder is filled; asked twice, the second call gets the first call\'s promise', async () => {
    const dir = path.join(tempDir(), 'db');
    fs.mkdirSync(dir);
    const [a, b] = [prepareDataDir(dir), prepareDataDir(dir)];
    assert.equal(a, b);
    await a;
    assert.ok(fs.existsSync(path.join(dir, 'PG_VERSION')));
  });

  it('work folders left by starts stopped while copying are removed; one of a living process is kept', async () => {
    const parent = tempDir();
    const dir = path.join(parent, 'db');
    const dead = path.join(parent, 'db.999999999.tmp'); // above Linux's pid limit: no such process
    const living = path.join(parent, `db.${process.ppid}.tmp`);
    const other = path.join(parent, 'other.999999999.tmp');
    for (const d of [dead, living, other]) fs.mkdirSync(path.join(d, 'base'), { recursive: true });
    await prepareDataDir(dir);
    assert.deepEqual(fs.readdirSync(parent).sort(), ['db', path.basename(living), 'other.999999999.tmp'].sort());
  });

  it('a folder that already holds a database is left as it is', async () => {
    const dir = path.join(tempDir(), 'db');
    await prepareDataDir(dir);
    fs.writeFileSync(path.join(dir, 'marker'), 'mine');
    const { prepareDataDir: again } = await import(`../../src/store/embedded-dir.js?again=${Date.now()}`);
    await again(dir);
    assert.equal(fs.readFileSync(path.join(dir, 'marker'), 'utf8'), 'mine');
  });

  it('a folder holding other files is refused with its name, and nothing in it is touched', async () => {
    const parent = tempDir();
    const dir = path.join(parent, 'db');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a database');
    await assert.rejects(prepareDataDir(dir), (e: Error) => e.message.includes(dir) && /no database/.test(e.message));
    assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
    assert.deepEqual(fs.readdirSync(parent), ['db'], 'no work copy was made');
  });
});
