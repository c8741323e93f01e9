// The one typed configuration object, parsed from the environment once (SPEC §9).
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { secretsKeyOf } from './core/secrets.js';
import type { WorkerSettings } from './worker/worker.js';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalInt = (min: number) => z.coerce.number().int().min(min).optional();
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.join(' or ')}`);

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').optional(),
  DB_POOL_MAX: int(10, 1),
  ACCEPT_BATCH_MAX: int(64, 1),
  LOOKUP_CACHE_MS: int(5000, 0),
  INTAKE_FLOW_BACKLOG: int(500, 0),
  INTAKE_FLOW_DELAY_MS: int(1000, 0),
  INTAKE_FLOW_PROBE_MS: int(200, 10),
  DATA_DIR: z.string().min(1).default('./data'),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_POOL_SIZE: int(5, 1),
  SMTP_TIMEOUT_MS: int(30_000, 100),
  MESSAGE_ID_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name').optional(),
  AMQP_URL: z.union([z.literal('off'), url(['amqp:', 'amqps:'])]).default('amqp://guest:guest@127.0.0.1:5672'),
  AMQP_QUEUE: z.string().min(1).default('hammy.send.v2'),
  AMQP_PREFETCH: int(32, 1),
  AMQP_REPLY_EXCHANGE: z.string().min(1).default('hammy.send.v2.reply'),
  AMQP_MAX_ATTEMPTS: int(5, 1),
  AMQP_RETRY_DELAY_MS: int(1000, 0),
  SOURCE_DIR: z.string().min(1).optional(),
  ARCHIVE_DIR: z.string().min(1).optional(),
  PRINT_DIR: z.string().min(1).optional(),
  FIXTURES: z.enum(['demo', 'none']).optional(),
  CERT_P12_PATH: z.string().min(1).optional(),
  CERT_P12_PASSWORD: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_ATTACHMENTS: int(10, 0),
  MAX_ATTACHMENT_BYTES: int(10 * 1024 * 1024, 1),
  MAX_REQUEST_BYTES: int(150 * 1024 * 1024, 1024),
  RENDER_MAX_BYTES: int(4 * 1024 * 1024, 1024),
  RENDER_MAX_MS: int(100, 1),
  HTTP_HEADERS_TIMEOUT_MS: int(10_000, 100),
  HTTP_REQUEST_TIMEOUT_MS: int(15 * 60_000, 100),
  HTTP_KEEPALIVE_TIMEOUT_MS: int(5_000, 100),
  HTTP_IDLE_TIMEOUT_MS: int(60_000, 100),
  BODY_MEMORY_BYTES: int(256 * 1024 * 1024, 1024),
  BODY_MEMORY_ANONYMOUS_PERCENT: int(25, 1).pipe(z.number().max(100)),
  BODY_MEMORY_WAIT_MS: int(5_000, 0),
  IDEMPOTENCY_WINDOW_HOURS: z.coerce.number().positive().default(24),
  WORKER: bool.default(true),
  WORKER_THREAD: z.union([z.literal('auto'), bool]).default('auto'),
  WORKER_CONCURRENCY: int(8, 1),
  WORKER_POLL_MS: int(500, 10),
  RETRY_MAX_ATTEMPTS: int(8, 1),
  RETRY_BASE_MS: int(1000, 1),
  JOB_LEASE_MS: optionalInt(1000),
  JOB_HEARTBEAT_MS: optionalInt(100),
  // The lease's former name (a fixed lock of 5 minutes, no heartbeat): still read when JOB_LEASE_MS is unset.
  JOB_LOCK_TIMEOUT_MS: optionalInt(1000),
  DELIVERY_TIMEOUT_MS: int(120_000, 100),
  DOCUMENT_TIMEOUT_MS: int(60_000, 1),
  PURGE_INTERVAL_MS: int(60_000, 0),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SECRETS_KEY: z.string().refine((v) => secretsKeyOf(v) !== undefined, 'must be 32 bytes as 64 hex digits or base64, or a passphrase of at least 32 characters').optional(),
  ALLOW_KEY_IN_QUERY: bool.default(false),
  PORTAL_KEY_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an HTTP header name (letters, digits, -)').default('X-Portal-Key'),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl?: string;
  dbSchema?: string;
  dbPoolMax: number;
  /** Most accepted messages written by one statement (1: each on its own). */
  acceptBatchMax: number;
  /** How long a client or template read may be reused (0: never); changes through this gateway's APIs apply at once. */
  lookupCacheMs: number;
  /** Intake flow control (core/intake-flow.ts): due jobs above which accepts wait, the longest wait, how often to look. */
  intakeFlow: { highWater: number; maxDelayMs: number; probeMs: number };
  dataDir: string;
  smtpUrl?: string;
  smtpPoolSize: number;
  /** Connection, greeting and socket timeout of SMTP (each). */
  smtpTimeoutMs: number;
  /** The deadline of making, signing, archiving or writing one document. */
  documentTimeoutMs: number;
  /** The domain of every Message-ID; unset: the domain of each message's from-address. */
  messageIdDomain?: string;
  amqpUrl: string;
  amqpQueue: string;
  amqp: { prefetch: number; replyExchange: string; maxAttempts: number; retryDelayMs: number };
  sourceDir: string;
  archiveDir: string;
  printDir: string;
  emailOutboxDir: string;
  fixtures: 'demo' | 'none';
  /** The signing certificate (PKCS#12); unset: a demo certificate generated under DATA_DIR/certs. */
  certificate: { p12Path?: string; passphrase?: string };
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  limits: { maxAttachments: number; maxAttachmentBytes: number; maxRequestBytes: number };
  /** Rendering bounds: the most text one part may have, the longest one render may take. */
  render: { maxBytes: number; maxMs: number };
  idempotencyWindowMs: number;
  /** HTTP server timeouts: a slow sender (slowloris) is closed, not held (README "Configuration"). */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; idleTimeoutMs: number };
  /** The memory all requests may hold as bodies, the part of it for bodies of clients not yet known, the longest wait. */
  bodyMemory: { totalBytes: number; anonymousBytes: number; waitMs: number };
  /** thread: deliver on a worker thread of the gateway process (auto: when a PostgreSQL server is configured and there is more than one CPU). */
  /**
   * leaseMs: how long a claimed job is a worker's without a heartbeat (renewed every heartbeatMs); deliveryTimeoutMs:
   * the deadline of one delivery; purgeIntervalMs: how often expired idempotency records are purged (0: never).
   */
  worker: WorkerSettings & {
    enabled: boolean;
    thread: boolean | 'auto';
    purgeIntervalMs: number;
  };
  /** Bearer token of the admin API (client management); unset: that API does not exist. */
  adminToken?: string;
  /** AES-256 key that seals client JWT secrets in the database (SECRETS_KEY); unset: no JWT secret can be stored. */
  secretsKey?: Buffer;
  /** Accept `?clientHashKey=` as older integrations send it (a risk: URLs are logged); off, such a request is 400. */
  allowKeyInQuery: boolean;
  /** The header the remote-content platform sends its portal key in. */
  portalKeyHeader: string;
};

const SECRETS = new Set(['ADMIN_TOKEN', 'CERT_P12_PASSWORD', 'SECRETS_KEY']);

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`configuration: ${variable} ${detail}`);
  }
}

/** Parses the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(Env.shape)) {
    const v = env[key];
    // Blank means unset: a number coerced from '  ' would silently be 0 (PORT=0 is a random port, MAX_ATTACHMENTS=0 none).
    if (v !== undefined && v.trim() !== '') raw[key] = v;
  }
  const parsed = Env.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    // A secret's value is never echoed: the message ends up in logs.
    const shown = SECRETS.has(variable) ? '[redacted]' : JSON.stringify(raw[variable] ?? null);
    throw new ConfigError(variable, `is invalid (${shown}): ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  // The embedded PGlite database lives in one thread's memory: a delivery thread could not reach it.
  if (e.WORKER_THREAD === true && !e.DATABASE_URL) throw new ConfigError('WORKER_THREAD', 'needs DATABASE_URL: the embedded database (PGlite) can be used by one thread only');
  // A request alone must always fit: one the budget can never hold would be told "busy, retry" for ever.
  if (e.BODY_MEMORY_BYTES < e.MAX_REQUEST_BYTES) throw new ConfigError('BODY_MEMORY_BYTES', `must be at least MAX_REQUEST_BYTES (${e.MAX_REQUEST_BYTES})`);
  const leaseMs = e.JOB_LEASE_MS ?? e.JOB_LOCK_TIMEOUT_MS ?? 30_000;
  const heartbeatMs = e.JOB_HEARTBEAT_MS ?? Math.min(10_000, Math.floor(leaseMs / 3));
  // A lease must outlive a heartbeat or two that come late (a busy event loop, a slow statement).
  if (heartbeatMs * 2 > leaseMs) throw new ConfigError('JOB_HEARTBEAT_MS', `is invalid (${heartbeatMs}): must be at most half of JOB_LEASE_MS (${leaseMs})`);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dbSchema: e.DB_SCHEMA,
    dbPoolMax: e.DB_POOL_MAX,
    acceptBatchMax: e.ACCEPT_BATCH_MAX,
    lookupCacheMs: e.LOOKUP_CACHE_MS,
    intakeFlow: { highWater: e.INTAKE_FLOW_BACKLOG, maxDelayMs: e.INTAKE_FLOW_DELAY_MS, probeMs: e.INTAKE_FLOW_PROBE_MS },
    dataDir,
    smtpUrl: e.SMTP_URL,
    smtpPoolSize: e.SMTP_POOL_SIZE,
    smtpTimeoutMs: e.SMTP_TIMEOUT_MS,
    documentTimeoutMs: e.DOCUMENT_TIMEOUT_MS,
    messageIdDomain: e.MESSAGE_ID_DOMAIN,
    amqpUrl: e.AMQP_URL,
    amqpQueue: e.AMQP_QUEUE,
    amqp: { prefetch: e.AMQP_PREFETCH, replyExchange: e.AMQP_REPLY_EXCHANGE, maxAttempts: e.AMQP_MAX_ATTEMPTS, retryDelayMs: e.AMQP_RETRY_DELAY_MS },
    sourceDir: path.resolve(e.SOURCE_DIR ?? path.join(dataDir, 'source')),
    archiveDir: path.resolve(e.ARCHIVE_DIR ?? path.join(dataDir, 'archive')),
    printDir: path.resolve(e.PRINT_DIR ?? path.join(dataDir, 'outbox', 'post')),
    emailOutboxDir: path.join(dataDir, 'outbox', 'email'),
    // The demo client's key is in the README: it loads by itself only on the embedded default that writes .eml files.
    fixtures: e.FIXTURES ?? (e.DATABASE_URL || e.SMTP_URL ? 'none' : 'demo'),
    certificate: { p12Path: e.CERT_P12_PATH ? path.resolve(e.CERT_P12_PATH) : undefined, passphrase: e.CERT_P12_PASSWORD },
    logLevel: e.LOG_LEVEL,
    limits: { maxAttachments: e.MAX_ATTACHMENTS, maxAttachmentBytes: e.MAX_ATTACHMENT_BYTES, maxRequestBytes: e.MAX_REQUEST_BYTES },
    render: { maxBytes: e.RENDER_MAX_BYTES, maxMs: e.RENDER_MAX_MS },
    idempotencyWindowMs: e.IDEMPOTENCY_WINDOW_HOURS * 3600_000,
    http: { headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS, idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS },
    bodyMemory: {
      totalBytes: e.BODY_MEMORY_BYTES,
      anonymousBytes: Math.floor((e.BODY_MEMORY_BYTES * e.BODY_MEMORY_ANONYMOUS_PERCENT) / 100),
      waitMs: e.BODY_MEMORY_WAIT_MS,
    },
    worker: {
      enabled: e.WORKER,
      thread: e.WORKER_THREAD,
      concurrency: e.WORKER_CONCURRENCY,
      pollMs: e.WORKER_POLL_MS,
      maxAttempts: e.RETRY_MAX_ATTEMPTS,
      retryBaseMs: e.RETRY_BASE_MS,
      leaseMs,
      heartbeatMs,
      deliveryTimeoutMs: e.DELIVERY_TIMEOUT_MS,
      purgeIntervalMs: e.PURGE_INTERVAL_MS,
    },
    adminToken: e.ADMIN_TOKEN,
    secretsKey: e.SECRETS_KEY === undefined ? undefined : secretsKeyOf(e.SECRETS_KEY),
    allowKeyInQuery: e.ALLOW_KEY_IN_QUERY,
    portalKeyHeader: e.PORTAL_KEY_HEADER,
  };
}

/** Whether the worker of a full gateway runs on a thread of its own (WORKER_THREAD, 'auto' by default). */
export function deliversOnThread(config: Config): boolean {
  if (config.worker.thread !== 'auto') return config.worker.thread;
  return Boolean(config.databaseUrl) && os.availableParallelism() > 1;
}
