// The embedded database's folder, made from the build's template (pglite-template.ts). Light on purpose: the
// entry point starts the copy before it loads the rest of the gateway, so the two overlap (cold start).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { migrations } from '../../migrations/index.js';
import { projectRoot } from '../core/project-root.js';

/** How the template is made (pglite-template.ts): a change there makes every older template stale. */
const TEMPLATE_FORMAT = 2;

/** The template fits one PGlite version, one list of migrations and one format; anything else is made anew. */
export function templatePath(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'));
  const key = createHash('sha256').update(`${pkg.version}|${Object.keys(migrations).sort().join(',')}|${TEMPLATE_FORMAT}`).digest('hex').slice(0, 12);
  return path.join(projectRoot(), 'dist', `pglite-template-${key}`);
}

const preparing = new Map<string, Promise<void>>();

/**
 * Makes `dir` a database folder copied from the template, if it holds no database yet (a file copy beats
 * PGlite's initdb tenfold). The copy is made beside it and renamed into place, so a start stopped midway
 * leaves no half-copied database; the work folders of such starts are removed by the next one. Without a
 * template, PGlite's initdb makes the folder on open. One folder is prepared once per process: a second
 * call gets the first call's promise, its failure included. The folder is held for this process first
 * (holdDataDir): an embedded database serves one process.
 */
export function prepareDataDir(dir: string): Promise<void> {
  let p = preparing.get(dir);
  if (!p) {
    p = holdDataDir(dir).then(() => copyTemplate(dir));
    preparing.set(dir, p);
  }
  return p;
}

/**
 * Holds `dir` for this process until it exits, or refuses with the holder's pid: a Linux abstract unix socket
 * named after the folder's real path listens, and the kernel frees the name when the process ends, however it
 * ends, so a crashed holder never blocks the next start (no stale lock file). The holder answers its pid on it.
 */
async function holdDataDir(dir: string): Promise<void> {
  if (process.platform !== 'linux') return; // abstract sockets are Linux's own
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  const parent = await fsp.realpath(path.dirname(dir));
  const real = await fsp.realpath(dir).catch(() => path.join(parent, path.basename(dir)));
  const name = `\0hammy-db-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
  // Held per process, not per copy of this module: a gateway started again in the same process reopens it.
  const held = ((globalThis as { hammyHeldDirs?: Set<string> }).hammyHeldDirs ??= new Set());
  if (held.has(name)) return;
  const server = net.createServer((s) => s.on('error', () => undefined).end(`${process.pid}\n`));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    const pid = await holderPid(name);
    throw new Error(`${real} is in use by another process (${pid ? `pid ${pid}` : 'its pid did not answer'}): an embedded database serves one process; stop that one, or set DATA_DIR to another folder (or DATABASE_URL for several gateways on one database)`);
  }
  held.add(name);
  server.unref(); // the hold lasts as long as the process, and keeps nothing running by itself
}

function holderPid(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(name);
    const done = () => {
      s.destroy();
      resolve(/^\d+$/.test(got.trim()) ? Number(got.trim()) : undefined);
    };
    s.setTimeout(2000, done);
    s.on('data', (d) => (got += d));
    s.on('end', done);
    s.on('error', done);
  });
}

async function copyTemplate(dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  const template = templatePath();
  if (!fs.existsSync(path.join(template, 'PG_VERSION'))) return;
  // Only an empty folder (or none) is filled: anything else there is not ours to replace.
  const present = await fsp.readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  if (present.length) throw new Error(`${dir} holds files but no database (no PG_VERSION): move them away, or set DATA_DIR to another folder`);
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  await removeStaleCopies(dir);
  const work = `${dir}.${process.pid}.tmp`;
  try {
    await fsp.rm(work, { recursive: true, force: true });
    await copyOnThread(template, work);
    await fsp.rmdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await fsp.rename(work, dir);
  } catch (e) {
    await fsp.rm(work, { recursive: true, force: true });
    throw e;
  }
}

/** Work folders (`db.<pid>.tmp`) of starts that were stopped while copying; a living process keeps its own. */
async function removeStaleCopies(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  for (const name of await fsp.readdir(parent)) {
    const m = /^(.*)\.(\d+)\.tmp$/.exec(name);
    if (!m || m[1] !== path.basename(dir) || alive(Number(m[2]))) continue;
    await fsp.rm(path.join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // this process is not copying yet
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A recursive copy on a thread of its own: the main thread goes on loading the gateway meanwhile. (fs.promises.cp
 * took twice as long as fs.cpSync here, stat-ing every file more than once.)
 */
function copyOnThread(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const code = `const { workerData: w } = require('node:worker_threads'); require('node:fs').cpSync(w.from, w.to, { recursive: true });`;
    const thread = new Worker(code, { eval: true, workerData: { from, to } });
    thread.once('error', reject);
    thread.once('exit', (exit) => (exit === 0 ? resolve() : reject(new Error(`copying ${from} to ${to} stopped with exit code ${exit}`))));
  });
}
