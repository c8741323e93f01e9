// Wires the parts from one Config: database, core, intakes, worker, HTTP; stops them in reverse order.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createSoapAdapter } from './adapters/soap/soap.js';
import type { Channel } from './channels/channel.js';
import { createEmailChannel } from './channels/email/email.js';
import type { Config } from './config.js';
import { acceptSendRequest, type AcceptDeps } from './core/accept.js';
import type { ChannelName } from './core/send-request.js';
import { resendMessage } from './core/resend.js';
import { createFileSources } from './documents/sources.js';
import { createHttpApp } from './http.js';
import { createLogger } from './log.js';
import { migrate, openDb, type Db } from './store/db.js';
import { loadDemoFixtures, projectRoot } from './store/fixtures.js';
import { createJobStore } from './store/jobs.js';
import { createSendStore } from './store/send-store.js';
import { createWorker, type Worker } from './worker/worker.js';

export type Gateway = {
  config: Config;
  db: Db;
  log: Logger;
  worker?: Worker;
  url: string;
  stop(): Promise<void>;
};

export type GatewayOptions = { http?: boolean; worker?: boolean; log?: Logger };

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const log = opts.log ?? createLogger(config.logLevel);
  const root = projectRoot();
  await fs.mkdir(config.dataDir, { recursive: true });
  const db = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, poolMax: config.dbPoolMax });
  const applied = await migrate(db);
  if (applied.length) log.info({ applied }, 'migrations applied');
  if (config.fixtures === 'demo') await loadDemoFixtures(db.knex, path.join(root, 'fixtures'));

  const channels: Partial<Record<ChannelName, Channel>> = {
    EMAIL: createEmailChannel({ smtpUrl: config.smtpUrl, poolSize: config.smtpPoolSize, outboxDir: config.emailOutboxDir, messageIdDomain: os.hostname() || 'hammy' }),
  };
  let worker: Worker | undefined;
  if (opts.worker ?? config.worker.enabled) {
    worker = createWorker({ jobs: createJobStore(db.knex), channels, log: log.child({ part: 'worker' }), ...config.worker });
    worker.start();
  }

  const deps: AcceptDeps = {
    store: createSendStore(db.knex),
    sources: createFileSources(config.sourceDir),
    limits: config.limits,
    idempotencyWindowMs: config.idempotencyWindowMs,
    availableChannels: Object.keys(channels) as ChannelName[],
    onStored: () => worker?.wake(),
    onSourceRemoveFailed: (p, err) => log.warn({ path: p, err }, 'source file could not be removed after the message was stored'),
  };

  let server: http.Server | undefined;
  let url = '';
  if (opts.http !== false) {
    const soap = await createSoapAdapter(path.join(root, 'wsdl', 'send-v2.wsdl'), {
      send: (input, ctx) => acceptSendRequest(deps, input, ctx),
      resend: (input, ctx) => resendMessage(deps, input, ctx),
    }, log.child({ part: 'soap' }));
    const app = createHttpApp({
      log,
      soap,
      maxRequestBytes: config.limits.maxRequestBytes,
      health: async () => {
        const database = await db.knex.raw('select 1').then(() => 'up', () => 'down');
        return {
          ready: database === 'up',
          parts: {
            database: { state: database, kind: db.embedded ? 'embedded PGlite' : 'PostgreSQL' },
            worker: worker ? 'running' : 'off',
            email: config.smtpUrl ? 'smtp' : `eml files in ${config.emailOutboxDir}`,
            amqp: 'not built yet',
          },
        };
      },
    });
    server = http.createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.port, config.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    url = `http://127.0.0.1:${addr.port}`;
    log.info({ url, embedded: db.embedded }, 'gateway ready');
  }

  return {
    config,
    db,
    log,
    worker,
    url,
    async stop() {
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await worker?.stop();
      await Promise.all(Object.values(channels).map((c) => c.close()));
      await db.knex.destroy();
    },
  };
}
