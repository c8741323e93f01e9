// Starts the gateway in-process for a test: its own PostgreSQL schema, data folder and SMTP sink.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { sealSecret, secretsKeyOf } from '../../src/core/secrets.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { SmtpSink } from './smtp-sink.js';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures');
export const DEMO_KEY = 'aa87cd4bcd3445bbc4';
/** The SECRETS_KEY test gateways start with (blank it to start one without). */
export const TEST_SECRETS_KEY = '4d1b0c7e2f9a8b3c6d5e4f30718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a';
/** A JWT secret as the gateway stores it under TEST_SECRETS_KEY, for rows a test inserts itself. */
export const sealedSecret = (secret: string) => sealSecret(secretsKeyOf(TEST_SECRETS_KEY)!, secret);

export type TestGateway = Gateway & { smtp: SmtpSink; dataDir: string; schema: string; halt(): Promise<void> };

export function tempDir(prefix = 'hammy-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestGateway(env: Record<string, string> = {}, opts: { log?: pino.Logger } = {}): Promise<TestGateway> {
  const smtp = new SmtpSink();
  await smtp.start();
  const dataDir = tempDir();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: PG_URL,
    DB_SCHEMA: schema,
    DATA_DIR: dataDir,
    SMTP_URL: smtp.url,
    AMQP_URL: 'off',
    FIXTURES: 'demo',
    WORKER_POLL_MS: '50',
    RETRY_BASE_MS: '100',
    // The worker in the test's own thread, where tests reach it (gw.worker); the delivery thread has its own tests.
    WORKER_THREAD: 'false',
    SECRETS_KEY: TEST_SECRETS_KEY,
    ...env,
  });
  const log = opts.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const gw = await startGateway(config, { log });
  const stopGateway = gw.stop;
  let halted: Promise<void> | undefined;
  const halt = () => (halted ??= stopGateway());
  return Object.assign(gw, {
    smtp,
    dataDir,
    schema,
    /** Stops the gateway as SIGTERM would, keeping its schema and files for inspection. */
    halt,
    async stop() {
      await halt();
      await smtp.stop();
      await dropSchema(schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

async function dropSchema(schema: string) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
}

export function fixture(...p: string[]): string {
  return fs.readFileSync(path.join(FIXTURES, ...p), 'utf8');
}
export function fixtureBytes(...p: string[]): Buffer {
  return fs.readFileSync(path.join(FIXTURES, ...p));
}

/** Waits until `check` returns a truthy value. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 15000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until a message has the given status event; returns its events in order. */
export async function waitForStatus(gw: TestGateway, messageId: number, status: string, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    const events = await gw.db.knex('message_events').where({ message_id: messageId }).orderBy('id');
    if (events.some((e) => e.status === status)) return events;
    if (Date.now() > until) throw new Error(`message ${messageId} never reached ${status}: ${events.map((e) => e.status).join(',')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
