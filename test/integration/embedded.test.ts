// The embedded default as `npm start` runs it: no configuration, PGlite under DATA_DIR, .eml files, demo fixtures.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { eventually, fixture, tempDir } from '../helpers/gateway.js';
import { postSoap } from '../helpers/soap.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** The environment of a new user: none of our variables set. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

describe('embedded default (npm start with no configuration)', function () {
  this.timeout(60000);
  let child: ChildProcess | undefined;
  let dir: string;
  let output = '';
  before(() => {
    assert.ok(fs.existsSync(MAIN), 'dist/ is built (npm ci / npm test build it)');
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    child = undefined;
  });

  it('boots on PGlite, accepts sample envelope 1, writes the .eml, and stops cleanly on SIGTERM', async () => {
    dir = tempDir('hammy-embedded-');
    const port = await freePort();
    // cwd = a fresh folder: DATA_DIR defaults to ./data there
    child = spawn(process.execPath, [MAIN], { cwd: dir, env: cleanEnv({ PORT: String(port), AMQP_URL: 'off' }), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    const health = await eventually(async () => {
      const r = await fetch(`${url}/health`).catch(() => undefined);
      return r?.status === 200 ? await r.json() : undefined;
    }, 40000, `health 200; output: ${output}`);
    assert.equal(health.parts.database.kind, 'embedded PGlite');
    const r = await postSoap(url, fixture('soap', 'sample1.xml'));
    assert.equal(r.code, 0, r.raw);
    const eml = path.join(dir, 'data', 'outbox', 'email', `${r.messageId}.eml`);
    const text = await eventually(async () => fs.existsSync(eml) && fs.readFileSync(eml, 'utf8'), 15000, eml);
    const mail = await simpleParser(text);
    assert.equal(mail.subject, 'Teszt levél tárgy');
    assert.equal(mail.text?.trim(), 'Teszt levél szöveg');
    assert.deepEqual((mail.to as any).value, [{ name: 'NAME', address: 'emailaddress@dbx.hu' }]);
    assert.ok(fs.existsSync(path.join(dir, 'data', 'db')), 'the database lives under ./data/db');
    // The README's channel examples work on PGlite too (bytea comes back as a Uint8Array there).
    const letter = await postSoap(url, fixture('examples', 'post-letter.xml'));
    assert.equal(letter.code, 0, letter.raw);
    const manifest = path.join(dir, 'data', 'outbox', 'post', 'client1-2026-11-NYOMTATAS', 'manifest.csv');
    const lines = await eventually(async () => fs.existsSync(manifest) && fs.readFileSync(manifest, 'utf8').trim().split('\n'), 15000, manifest);
    assert.match(lines[1]!, new RegExp(`^${letter.messageId}\\.pdf;REGISTERED;true;false;2;`));
    const archived = await postSoap(url, fixture('examples', 'archive.xml'));
    assert.equal(archived.code, 0, archived.raw);
    const docs = await eventually(async () => {
      const body = await (await fetch(`${url}/hammy/json/send/v2/documents?objectRef=123456789`, { headers: { 'X-Client-Hash-Key': 'aa87cd4bcd3445bbc4' } })).json();
      return body.data.length === 1 && body.data;
    }, 15000, 'the archived document');
    assert.deepEqual(docs[0].attributes.metadata, { SZERZODO_NEVE: 'Cserepes Virág' });
    const sidecar = path.join(dir, 'data', 'archive', 'demo', 'alma', `${archived.messageId}_szerzodes-masolat.pdf.meta.json`);
    await eventually(async () => fs.existsSync(sidecar), 15000, sidecar);
    child.kill('SIGTERM');
    const code = await new Promise((res) => child!.once('exit', res));
    assert.equal(code, 0);
  });

  it('restarts on the same data: migrations are not re-applied and messages are kept', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [MAIN], { cwd: dir, env: cleanEnv({ PORT: String(port), AMQP_URL: 'off' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200, 40000, 'health');
    assert.doesNotMatch(out, /migrations applied/);
    const r = await postSoap(`http://127.0.0.1:${port}`, fixture('soap', 'sample1.xml'));
    assert.equal(r.code, 0);
    assert.ok(r.messageId! > 1, 'ids continue after the first run');
  });

  it('safe on a network by default: listens on 127.0.0.1 (logged as bound), and the demo client loads only without SMTP_URL', async () => {
    const start = async (extra: Record<string, string>) => {
      const port = await freePort();
      let out = '';
      child = spawn(process.execPath, [MAIN], { cwd: tempDir('hammy-defaults-'), env: cleanEnv({ PORT: String(port), AMQP_URL: 'off', ...extra }), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200, 40000, `health; output: ${out}`);
      return { port, output: () => out };
    };
    const stop = async () => {
      child!.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    };
    const first = await start({});
    assert.match(first.output(), new RegExp(`gateway ready on http://127\\.0\\.0\\.1:${first.port}`));
    assert.match(first.output(), /demo fixtures loaded/);
    // Another address of this machine is not served.
    const other = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) {
      const err = await fetch(`http://${other.address}:${first.port}/health`).then(() => undefined, (e) => e);
      assert.ok(err, `the gateway answered on ${other.address}`);
    }
    const demo = await postSoap(`http://127.0.0.1:${first.port}`, fixture('soap', 'sample1.xml'));
    assert.equal(demo.code, 0, demo.raw);
    await stop();

    // With a real SMTP server configured, the public demo key is not a way in.
    const smtp = await start({ SMTP_URL: 'smtp://127.0.0.1:9' });
    assert.doesNotMatch(smtp.output(), /demo fixtures loaded/);
    const refused = await postSoap(`http://127.0.0.1:${smtp.port}`, fixture('soap', 'sample1.xml'));
    assert.equal(refused.code, 2, refused.raw);
    await stop();
  });

  it('a bad configuration value stops the start with a message naming the variable', () => {
    for (const [name, value] of [['PORT', 'eighty'], ['DATABASE_URL', 'mysql://x'], ['SMTP_URL', 'http://mail'], ['FIXTURES', 'lots']]) {
      const r = spawnSync(process.execPath, [MAIN], { cwd: tempDir(), env: cleanEnv({ [name]: value }), encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`\\b${name}\\b`));
    }
  });
});
