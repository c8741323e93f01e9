// Multipart reading rules of the REST intake that need no server: the boundary the body uses, how parts are named,
// and where a part's bytes are kept (memory or a spool file).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { BodyMemory } from '../../src/core/memory-budget.js';
import { effectiveBoundary, partName, partPointer, readMultipart } from '../../src/adapters/rest/multipart.js';
import { PartMemory, type PartRoom } from '../../src/adapters/rest/part-sink.js';
import { SpooledFile } from '../../src/core/send-request.js';
import { multipart } from '../helpers/rest.js';

describe('REST multipart rules', () => {
  it('the RFC form: delimiter lines are -- + the boundary parameter', () => {
    assert.equal(effectiveBoundary('abc', Buffer.from('--abc\r\nContent-Disposition: form-data; name="message"')), 'abc');
    assert.equal(effectiveBoundary('--abc', Buffer.from('----abc\r\n')), '--abc');
  });

  it('the Hammy page form: delimiter lines equal to a parameter that starts with --', () => {
    const b = '-----------------------------974767299852498929531610575';
    assert.equal(effectiveBoundary(b, Buffer.from(`${b}\r\nContent-Disposition: form-data`)), b.slice(2));
    assert.equal(effectiveBoundary(b, Buffer.from(`${b}--`)), b.slice(2), 'an empty body with only the close delimiter');
  });

  it('anything else is left to the parser to refuse', () => {
    assert.equal(effectiveBoundary('abc', Buffer.from('abc\r\n')), 'abc', 'no -- to take from the parameter');
    assert.equal(effectiveBoundary('--abc', Buffer.from('--abcdef\r\n')), '--abc', 'a longer line is not the delimiter');
    assert.equal(effectiveBoundary('--abc', Buffer.alloc(0)), '--abc');
  });

  it('a part is named by Content-Disposition name, else by its Content-ID without brackets', () => {
    assert.equal(partName({ 'content-id': '<x@y>' }, 'message'), 'message');
    assert.equal(partName({ 'content-id': '<kep@hammy>' }, null), 'kep@hammy');
    assert.equal(partName({ 'content-id': 'plain-id' }, null), 'plain-id');
    assert.equal(partName({}, null), undefined);
  });

  it('part pointers escape ~ and / as RFC 6901 says', () => {
    assert.equal(partPointer('a/b~c'), '/parts/a~1b~0c');
    assert.equal(partPointer(), '/parts');
  });
});

describe('REST multipart parts: in memory or in a spool file', () => {
  const KiB = 1024;
  const budget = (bytes: number) => new BodyMemory({ totalBytes: bytes, anonymousBytes: bytes, waitMs: 0 });
  const LIMITS = { maxAttachments: 10, maxAttachmentBytes: 10 * 1024 * KiB, maxRequestBytes: 20 * 1024 * KiB };
  let tmp: string;
  let folders = 0;
  /** A folder per request, as the REST intake makes it; counted, so a test can tell that none was made. */
  const dir = async () => {
    folders++;
    return fs.promises.mkdtemp(path.join(tmp, 'rest-'));
  };
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'multipart-'));
  });
  beforeEach(() => {
    folders = 0;
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A request as the HTTP server hands it over: the body arrives in 16 KiB chunks, with or without its length. */
  function request(body: Buffer, contentType: string, declareLength = true): IncomingMessage {
    const req = Object.assign(new PassThrough(), { headers: { 'content-type': contentType, ...(declareLength ? { 'content-length': String(body.length) } : { 'transfer-encoding': 'chunked' }) } });
    void (async () => {
      for (let i = 0; i < body.length; i += 16 * KiB) if (!req.write(body.subarray(i, i + 16 * KiB))) await once(req, 'drain');
      req.end();
    })();
    return req as unknown as IncomingMessage;
  }
  const message = { name: 'message', type: 'application/json', body: '{}' };
  /** The message part is held in memory too, until the room is released. */
  const MESSAGE_BYTES = message.body.length;
  const read = (parts: { name: string; body: Buffer }[], room: PartRoom, declareLength = true) => {
    const m = multipart([message, ...parts.map((p) => ({ ...p, type: 'application/octet-stream' }))]);
    return readMultipart(request(m.body, m.contentType, declareLength), m.contentType, LIMITS, room);
  };

  it('small parts are held in memory: no folder, no file; their bytes count against the allowance until released', async () => {
    const memory = new PartMemory(budget(1024 * KiB), 256 * KiB);
    const a = randomBytes(10 * KiB);
    const b = randomBytes(100 * KiB);
    const room = memory.room(200 * KiB, dir);
    const parts = await read([{ name: 'a', body: a }, { name: 'b', body: b }], room);
    assert.ok(Buffer.isBuffer(parts.files.get('a')) && Buffer.isBuffer(parts.files.get('b')));
    assert.deepEqual(parts.files.get('a'), a);
    assert.deepEqual(parts.files.get('b'), b);
    assert.equal(parts.message?.text, '{}');
    assert.equal(folders, 0);
    assert.equal(memory.available, 1024 * KiB - a.length - b.length - MESSAGE_BYTES);
    room.release();
    assert.equal(memory.available, 1024 * KiB);
  });

  it('a part that finds the allowance used up midway goes on into a file, with the bytes it already had', async () => {
    const memory = new PartMemory(budget(64 * KiB), 1024 * KiB);
    const big = randomBytes(300 * KiB);
    const parts = await read([{ name: 'big', body: big }], memory.room(400 * KiB, dir));
    const f = parts.files.get('big');
    assert.ok(f instanceof SpooledFile);
    assert.equal(f.size, big.length);
    assert.deepEqual(fs.readFileSync(f.path), big);
    assert.deepEqual(f.head, big.subarray(0, 1024), 'the first KiB, where a PDF is recognised');
    assert.equal(folders, 1);
    assert.equal(memory.available, 64 * KiB - MESSAGE_BYTES, 'what the part held before is given back');
  });

  it('a request that does not declare its length (chunked) holds nothing: nobody knows ahead how large it is', async () => {
    const memory = new PartMemory(budget(1024 * KiB), 64 * KiB);
    const a = randomBytes(1 * KiB);
    const parts = await read([{ name: 'a', body: a }], memory.room(undefined, dir), false);
    assert.ok(parts.files.get('a') instanceof SpooledFile);
    assert.deepEqual(fs.readFileSync((parts.files.get('a') as SpooledFile).path), a);
    assert.equal(memory.available, 1024 * KiB - MESSAGE_BYTES);
  });

  it('a request that declares a body over its share holds nothing: its parts go straight to files', async () => {
    const memory = new PartMemory(budget(1024 * KiB), 64 * KiB);
    const small = randomBytes(1 * KiB);
    const declared = memory.room(200 * KiB, dir);
    assert.equal(declared.hold(1), false, 'a room for a body over the share grants nothing');
    const m = multipart([message, { name: 'small', type: 'application/octet-stream', body: small }, { name: 'big', type: 'application/octet-stream', body: randomBytes(200 * KiB) }]);
    const parts = await readMultipart(request(m.body, m.contentType), m.contentType, LIMITS, memory.room(m.body.length, dir));
    assert.ok(parts.files.get('small') instanceof SpooledFile, 'even a small part of a large request');
    assert.deepEqual(fs.readFileSync((parts.files.get('small') as SpooledFile).path), small);
    assert.equal(memory.available, 1024 * KiB - MESSAGE_BYTES);
  });

  it('while other requests hold the whole allowance, a small part goes to a file', async () => {
    const memory = new PartMemory(budget(64 * KiB), 64 * KiB);
    const other = memory.room(60 * KiB, dir);
    assert.equal(other.hold(60 * KiB), true);
    const a = randomBytes(10 * KiB);
    const parts = await read([{ name: 'a', body: a }], memory.room(20 * KiB, dir));
    assert.ok(parts.files.get('a') instanceof SpooledFile);
    assert.deepEqual(fs.readFileSync((parts.files.get('a') as SpooledFile).path), a);
    // The chunks the part held before it went to a file are given back at once.
    assert.equal(memory.available, 4 * KiB - MESSAGE_BYTES);
    other.release();
    assert.equal(memory.available, 64 * KiB - MESSAGE_BYTES);
  });

  it('a client that leaves while its part streams to a file: the read fails with that reason, and the file is closed', async () => {
    const memory = new PartMemory(budget(1024 * KiB), 16 * KiB);
    const m = multipart([message, { name: 'big', type: 'application/octet-stream', body: randomBytes(400 * KiB) }]);
    // Chunked: straight to a file.
    const req = Object.assign(new PassThrough(), { headers: { 'content-type': m.contentType, 'transfer-encoding': 'chunked' } });
    let made = '';
    const room: PartRoom = { ...memory.room(undefined, dir), dir: async () => (made = await dir()) };
    const reading = readMultipart(req as unknown as IncomingMessage, m.contentType, LIMITS, room);
    // The body comes until the part has gone to a file, and then the client leaves.
    for (let i = 0; !made && i < m.body.length; i += 16 * KiB) {
      req.write(m.body.subarray(i, i + 16 * KiB));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(made, 'the part went to a file before the body ended');
    req.destroy();
    // Not the file stream's own complaint about writes after it was closed.
    await assert.rejects(reading, { message: 'the request ended before its body was complete' });
    // Closed by the time the read fails: no descriptor of this process points into the folder.
    const open = fs.readdirSync('/proc/self/fd').map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });
    assert.deepEqual(open.filter((f) => f.startsWith(made)), []);
    fs.rmSync(made, { recursive: true });
  });

  it('a client that leaves before the body has begun: the read fails with that reason, and does not wait forever', async () => {
    const memory = new PartMemory(budget(1024 * KiB), 16 * KiB);
    const m = multipart([message]);
    for (const when of ['before', 'during'] as const) {
      const req = Object.assign(new PassThrough(), { headers: { 'content-type': m.contentType, 'content-length': String(m.body.length) } });
      if (when === 'before') req.destroy();
      const reading = readMultipart(req as unknown as IncomingMessage, m.contentType, LIMITS, memory.room(m.body.length, dir));
      if (when === 'during') setTimeout(() => req.destroy(), 20);
      await assert.rejects(reading, { message: 'the request ended before its body was complete' }, when);
    }
  });

  it('a part that ends while its file is still taking a large write: the next part is read, nothing waits forever', async () => {
    const B = 'xyzBOUNDARY';
    const head = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n{}\r\n--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n`);
    const mid = Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="b"\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${B}--\r\n`);
    const [a1, a2, b] = [randomBytes(16 * KiB), randomBytes(14 * KiB), randomBytes(1000)];
    // 1: part a is held in memory until the allowance runs out, then its 30 KiB go to the file in one write.
    // 2: part a goes to a file from the start (chunked), its last write large; both end with b's headers.
    for (const chunks of [
      [Buffer.concat([head, a1]), Buffer.concat([a2, mid]), Buffer.concat([b, tail])],
      [Buffer.concat([head, a1, a2, mid]), Buffer.concat([b, tail])],
    ]) {
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const chunked = chunks.length === 2;
      const req = Object.assign(new PassThrough(), { headers: { 'content-type': `multipart/form-data; boundary=${B}`, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(total) }) } });
      const memory = new PartMemory(budget(20 * KiB), 4096 * KiB);
      const reading = readMultipart(req as unknown as IncomingMessage, req.headers['content-type'], LIMITS, memory.room(chunked ? undefined : total, dir));
      for (const c of chunks) {
        req.write(c);
        await new Promise((r) => setTimeout(r, 30));
      }
      req.end();
      const parts = await reading;
      assert.deepEqual(fs.readFileSync((parts.files.get('a') as SpooledFile).path), Buffer.concat([a1, a2]));
      assert.deepEqual(parts.files.get('b') instanceof SpooledFile ? fs.readFileSync(parts.files.get('b')!.path) : parts.files.get('b'), b);
    }
  });

  it('a spool folder that cannot be made fails the read with the file system\'s reason', async () => {
    const memory = new PartMemory(budget(1024 * KiB), 16 * KiB);
    const room: PartRoom = { ...memory.room(100 * KiB, dir), dir: () => Promise.reject(Object.assign(new Error('EACCES: permission denied, mkdtemp'), { code: 'EACCES' })) };
    await assert.rejects(read([{ name: 'big', body: randomBytes(100 * KiB) }], room), /EACCES/);
  });
});
