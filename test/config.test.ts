// Configuration by environment (SPEC §9): the defaults, and a bad value stops the start naming the variable.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, deliversOnThread, loadConfig } from '../src/config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  return assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('no environment: embedded database, demo fixtures, port 8080, folders under ./data', () => {
    const c = loadConfig({});
    const dataDir = path.resolve('./data');
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.fixtures, 'demo');
    assert.equal(c.dataDir, dataDir);
    assert.equal(c.sourceDir, path.join(dataDir, 'source'));
    assert.equal(c.archiveDir, path.join(dataDir, 'archive'));
    assert.equal(c.printDir, path.join(dataDir, 'outbox', 'post'));
    assert.equal(c.emailOutboxDir, path.join(dataDir, 'outbox', 'email'));
    assert.equal(c.smtpUrl, undefined);
    assert.equal(c.amqpUrl, 'amqp://guest:guest@127.0.0.1:5672');
    assert.equal(c.amqpQueue, 'hammy.send.v2');
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(c.limits, { maxAttachments: 10, maxAttachmentBytes: 10 * 1024 * 1024, maxRequestBytes: 150 * 1024 * 1024 });
    assert.equal(c.idempotencyWindowMs, 24 * 3600 * 1000);
    assert.equal(c.worker.enabled, true);
    assert.equal(c.worker.thread, 'auto');
  });

  it('reads only the environment it is given', () => {
    const saved = process.env.PORT;
    process.env.PORT = '1234';
    try {
      assert.equal(loadConfig({}).port, 8080);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('DATA_DIR moves every derived folder; explicit folders win', () => {
    const c = loadConfig({ DATA_DIR: '/srv/hammy', ARCHIVE_DIR: '/mnt/archive' });
    assert.equal(c.dataDir, '/srv/hammy');
    assert.equal(c.sourceDir, '/srv/hammy/source');
    assert.equal(c.archiveDir, '/mnt/archive');
    assert.equal(c.printDir, '/srv/hammy/outbox/post');
    assert.equal(c.emailOutboxDir, '/srv/hammy/outbox/email');
    const d = loadConfig({ DATA_DIR: '/srv/hammy', SOURCE_DIR: 'rel/src', PRINT_DIR: '/print' });
    assert.equal(d.sourceDir, path.resolve('rel/src'));
    assert.equal(d.printDir, '/print');
  });

  it('with DATABASE_URL: no demo fixtures unless asked for', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/hammy' });
    assert.equal(c.databaseUrl, 'postgres://u:p@db:5432/hammy');
    assert.equal(c.fixtures, 'none');
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql://db/hammy', FIXTURES: 'demo' }).fixtures, 'demo');
    assert.equal(loadConfig({ FIXTURES: 'none' }).fixtures, 'none');
    // The demo key is public: a gateway that sends real mail does not load it unless asked.
    assert.equal(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525' }).fixtures, 'none');
    assert.equal(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525', FIXTURES: 'demo' }).fixtures, 'demo');
  });

  it('converts numbers, booleans and URLs', () => {
    const c = loadConfig({
      PORT: '9090',
      SMTP_URL: 'smtp://127.0.0.1:2525',
      AMQP_URL: 'off',
      MAX_ATTACHMENTS: '0',
      MAX_ATTACHMENT_BYTES: '2048',
      IDEMPOTENCY_WINDOW_HOURS: '0.5',
      WORKER: 'false',
      LOG_LEVEL: 'debug',
    });
    assert.equal(c.port, 9090);
    assert.equal(c.smtpUrl, 'smtp://127.0.0.1:2525');
    assert.equal(c.amqpUrl, 'off');
    assert.equal(c.limits.maxAttachments, 0);
    assert.equal(c.limits.maxAttachmentBytes, 2048);
    assert.equal(c.idempotencyWindowMs, 30 * 60 * 1000);
    assert.equal(c.worker.enabled, false);
    assert.equal(c.logLevel, 'debug');
    for (const [v, enabled] of [['true', true], ['1', true], ['on', true], ['0', false], ['no', false], ['off', false]] as const) {
      assert.equal(loadConfig({ WORKER: v }).worker.enabled, enabled, `WORKER=${v}`);
    }
  });

  it('WORKER_THREAD: auto delivers on a thread with a PostgreSQL server and more than one CPU; on the embedded database only in-process', () => {
    const cpus = os.availableParallelism();
    assert.equal(deliversOnThread(loadConfig({ DATABASE_URL: 'postgres://db/hammy' })), cpus > 1);
    assert.equal(deliversOnThread(loadConfig({})), false);
    assert.equal(deliversOnThread(loadConfig({ DATABASE_URL: 'postgres://db/hammy', WORKER_THREAD: 'false' })), false);
    assert.equal(deliversOnThread(loadConfig({ DATABASE_URL: 'postgres://db/hammy', WORKER_THREAD: 'yes' })), true);
    assert.equal(loadConfig({ WORKER_THREAD: 'off' }).worker.thread, false);
    // The embedded PGlite database lives in one thread: asking for a delivery thread without DATABASE_URL is an error.
    const e = configError({ WORKER_THREAD: 'true' });
    assert.equal(e.variable, 'WORKER_THREAD');
    assert.match(e.message, /^configuration: WORKER_THREAD needs DATABASE_URL/);
  });

  it('body memory and HTTP timeouts: defaults, and the anonymous share as a part of the budget', () => {
    const c = loadConfig({});
    assert.deepEqual(c.bodyMemory, { totalBytes: 256 * 2 ** 20, anonymousBytes: 64 * 2 ** 20, waitMs: 5000 });
    assert.deepEqual(c.http, { headersTimeoutMs: 10_000, requestTimeoutMs: 900_000, keepAliveTimeoutMs: 5000, idleTimeoutMs: 60_000 });
    assert.equal(loadConfig({ BODY_MEMORY_BYTES: String(200 * 2 ** 20), BODY_MEMORY_ANONYMOUS_PERCENT: '50' }).bodyMemory.anonymousBytes, 100 * 2 ** 20);
  });

  it('an empty or blank value means unset, not zero', () => {
    const c = loadConfig({ PORT: '', MAX_ATTACHMENTS: '  ', DATABASE_URL: '' });
    assert.equal(c.port, 8080);
    assert.equal(c.limits.maxAttachments, 10);
    assert.equal(c.databaseUrl, undefined);
  });

  it('SECRETS_KEY: 64 hex digits or base64 of 32 bytes are the key; a long passphrase is stretched; a short one stops the start unshown', () => {
    const hex = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
    assert.deepEqual(loadConfig({ SECRETS_KEY: hex }).secretsKey, Buffer.from(hex, 'hex'));
    const b64 = Buffer.from(hex, 'hex').toString('base64');
    assert.deepEqual(loadConfig({ SECRETS_KEY: b64 }).secretsKey, Buffer.from(hex, 'hex'));
    const phrase = loadConfig({ SECRETS_KEY: 'correct horse battery staple, and then some' }).secretsKey!;
    assert.equal(phrase.length, 32);
    assert.deepEqual(loadConfig({ SECRETS_KEY: 'correct horse battery staple, and then some' }).secretsKey, phrase, 'the same passphrase, the same key');
    assert.equal(loadConfig({}).secretsKey, undefined);
    const e = configError({ SECRETS_KEY: 'too-short-a-secret' });
    assert.equal(e.variable, 'SECRETS_KEY');
    assert.ok(!e.message.includes('too-short-a-secret'), 'the value is redacted');
    assert.match(e.message, /32 bytes as 64 hex digits or base64, or a passphrase of at least 32 characters/);
  });

  describe('a bad value throws ConfigError naming the variable', () => {
    const cases: Array<[string, string]> = [
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['DATABASE_URL', 'mysql://x'],
      ['DATABASE_URL', 'not a url'],
      ['SMTP_URL', 'http://x'],
      ['AMQP_URL', 'http://broker'],
      ['MAX_ATTACHMENTS', '-1'],
      ['MAX_ATTACHMENT_BYTES', '0'],
      ['IDEMPOTENCY_WINDOW_HOURS', '0'],
      ['WORKER', 'maybe'],
      ['WORKER_THREAD', 'sometimes'],
      ['LOG_LEVEL', 'loud'],
      ['FIXTURES', 'all'],
      ['DB_SCHEMA', 'Bad-Name'],
      ['BODY_MEMORY_ANONYMOUS_PERCENT', '0'],
      ['BODY_MEMORY_ANONYMOUS_PERCENT', '101'],
      ['HTTP_HEADERS_TIMEOUT_MS', '10'],
    ];
    for (const [variable, value] of cases) {
      it(`${variable}=${value}`, () => {
        const e = configError({ [variable]: value });
        assert.equal(e.variable, variable);
        assert.match(e.message, new RegExp(`^configuration: ${variable} is invalid \\(${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): `));
      });
    }

    it('BODY_MEMORY_BYTES below MAX_REQUEST_BYTES: a request alone could never fit', () => {
      const e = configError({ BODY_MEMORY_BYTES: '2048', MAX_REQUEST_BYTES: '4096' });
      assert.equal(e.variable, 'BODY_MEMORY_BYTES');
      assert.match(e.message, /at least MAX_REQUEST_BYTES \(4096\)/);
    });

    it('names the bad variable among good ones', () => {
      const e = configError({ PORT: '8081', DATA_DIR: '/tmp/x', LOG_LEVEL: 'loud', SMTP_URL: 'smtp://h:25' });
      assert.equal(e.variable, 'LOG_LEVEL');
      assert.match(e.message, /LOG_LEVEL/);
    });
  });
});
