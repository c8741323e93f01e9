// Wires the parts from one Config: database, core, intakes, worker, HTTP; stops them in reverse order.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createSoapAdapter } from './adapters/soap/soap.js';
import { restRoutes } from './adapters/rest/rest.js';
import { startAmqpIntake, type AmqpIntake } from './adapters/amqp/consumer.js';
import { documentRoutes } from './api/documents.js';
import { portalRoutes } from './api/portal.js';
import { adminRoutes } from './api/admin.js';
import { keyInQueryRule } from './api/caller.js';
import { portalKeyRoutes } from './api/portal-keys.js';
import { createClientStore } from './store/clients.js';
import { cachedLookups } from './store/lookup-cache.js';
import { templateRoutes } from './api/templates.js';
import { createTemplateStore } from './store/templates.js';
import { statusRoutes } from './api/status.js';
import { createMessageQueries } from './store/messages.js';
import { createDocumentStore } from './store/documents.js';
import { createPortalStore } from './store/portal.js';
import { createPortalKeyStore } from './store/portal-keys.js';
import { createMetrics, metricsRoute } from './metrics.js';
import { deliversOnThread, type Config } from './config.js';
import { acceptSendRequest, type AcceptDeps } from './core/accept.js';
import { createIntakeFlow } from './core/intake-flow.js';
import { BodyMemory } from './core/memory-budget.js';
import { resendMessage } from './core/resend.js';
import { createFileSources } from './documents/sources.js';
import { createHttpApp } from './http.js';
import { createLogger } from './log.js';
import { projectRoot } from './core/project-root.js';
import type { Db } from './store/db.js';
import type { DeliveryThread } from './worker/delivery-thread.js';
import type { Worker } from './worker/worker.js';
import { openGatewayDb } from './gateway/database.js';
import { startDelivery, startDeliveryOnThread } from './gateway/delivery.js';
import { createQueueStats } from './store/queue-stats.js';
import { createJobStore } from './store/jobs.js';
import { createSendStore } from './store/send-store.js';
import { createRateLimits } from './store/rate-limits.js';

export type Gateway = {
  config: Config;
  db: Db;
  log: Logger;
  /** The in-process worker (a worker-only process, or WORKER_THREAD off). */
  worker?: Worker;
  /** The delivery thread (WORKER_THREAD), when the worker runs there instead. */
  deliveryThread?: DeliveryThread;
  url: string;
  stop(): Promise<void>;
};

export type GatewayOptions = {
  http?: boolean;
  worker?: boolean;
  log?: Logger;
};

/** An output folder as /health shows it: writable, not made yet (made on first use), or not writable. */
async function folderState(dir: string): Promise<string> {
  try {
    if (!(await fs.stat(dir)).isDirectory()) return 'not writable';
    await fs.access(dir, fs.constants.W_OK);
    return 'writable';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not made yet' : 'not writable';
  }
}

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const log = opts.log ?? createLogger(config.logLevel);
  const intakes = opts.http !== false;
  if (!intakes) return startWorkerOnly(config, log);
  const root = projectRoot();
  const db = await openGatewayDb(config, log);

  if (config.allowKeyInQuery) log.warn('ALLOW_KEY_IN_QUERY=true: client keys are accepted in query strings, where access logs and proxies keep them');
  const metrics = createMetrics(createQueueStats(db.knex));
  const jobStore = createJobStore(db.knex);
  const delivering = opts.worker ?? config.worker.enabled;
  const workerLog = log.child({ part: 'worker' });
  let delivery: ReturnType<typeof startDelivery> | undefined;
  let deliveryThread: DeliveryThread | undefined;
  if (delivering && deliversOnThread(config)) {
    deliveryThread = await startDeliveryOnThread(config, workerLog, { onOutcomes: metrics.deliveries, onTakeovers: metrics.takeovers });
  } else if (delivering) {
    delivery = startDelivery(config, db, workerLog, { onOutcome: metrics.delivery, onTakeover: metrics.takeovers });
  }
  const worker = delivery?.worker;

  // One budget for every body this process holds in memory, whatever its wire (README "Configuration").
  const bodyMemory = new BodyMemory(config.bodyMemory);
  const batch = config.acceptBatchMax > 1 ? { maxBatch: config.acceptBatchMax, maxConcurrent: 2 } : undefined;
  const lookups = cachedLookups(createSendStore(db.knex, { batch, memory: bodyMemory, secretsKey: config.secretsKey }), {
    knex: db.knex,
    ttlMs: config.lookupCacheMs,
    databaseUrl: config.databaseUrl,
    schema: config.dbSchema,
    log: log.child({ part: 'lookups' }),
  });
  const flow = createIntakeFlow({
    ...config.intakeFlow,
    probe: () => jobStore.backlog(config.intakeFlow.highWater + 1000),
    onProbeError: (err) => log.warn({ err }, 'intake flow: the backlog cannot be read; requests go ahead until it can'),
    onDelay: metrics.flowDelayed,
  });
  const deps: AcceptDeps = {
    store: lookups.store,
    admit: flow.admit,
    sources: createFileSources(config.sourceDir, config.archiveDir),
    limits: config.limits,
    idempotencyWindowMs: config.idempotencyWindowMs,
    render: config.render,
    rateLimits: createRateLimits(),
    onStored: () => (worker ?? deliveryThread)?.wake(),
    onSourceRemoveFailed: (p, err) => log.warn({ path: p, err }, 'source file could not be removed after the message was stored'),
  };
  // Every intake calls the core through these, so each is counted and timed the same way.
  const send = metrics.track('send', (input, ctx) => acceptSendRequest(deps, input, ctx));
  const resend = metrics.track('resend', (input, ctx) => resendMessage(deps, input, ctx));

  let server: http.Server | undefined;
  let amqpIntake: AmqpIntake | undefined;
  let url = '';
  if (intakes) {
    const soap = await createSoapAdapter(path.join(root, 'wsdl', 'send-v2.wsdl'), { send, resend, status: { store: deps.store, messages: createMessageQueries(db.knex) } }, log.child({ part: 'soap' }));
    const app = createHttpApp({
      log,
      soap,
      maxRequestBytes: config.limits.maxRequestBytes,
      bodyMemory,
      knownClient: async (key) => Boolean((await deps.store.findClient(key))?.enabled),
      routes: [
        (r) => r.use(keyInQueryRule(config.allowKeyInQuery)),
        (r) => portalRoutes(r, { store: createPortalStore(db.knex), keys: createPortalKeyStore(db.knex), keyHeader: config.portalKeyHeader }),
        (r) => documentRoutes(r, deps.store, createDocumentStore(db.knex)),
        (r) => restRoutes(r, { send, resend, limits: config.limits, clientLimits: (k) => deps.store.findClient(k), memory: bodyMemory, spoolDir: path.join(config.dataDir, 'tmp', 'rest'), openapiFile: path.join(root, 'openapi', 'send-v2.openapi.json'), log }),
        (r) => statusRoutes(r, deps.store, createMessageQueries(db.knex)),
        (r) => templateRoutes(r, deps.store, createTemplateStore(db.knex, lookups.changed), config.render),
        (r) => metricsRoute(r, metrics),
        ...(config.adminToken ? [(r: Parameters<typeof adminRoutes>[0]) => adminRoutes(r, config.adminToken!, createClientStore(db.knex, lookups.changed, config.secretsKey))] : []),
        ...(config.adminToken ? [(r: Parameters<typeof portalKeyRoutes>[0]) => portalKeyRoutes(r, config.adminToken!, createPortalKeyStore(db.knex))] : []),
      ],
      health: async () => {
        const database = await db.knex.raw('select 1').then(() => 'up', () => 'down');
        // Ready to take requests: the database answers and every configured intake consumes (HTTP listens, or this
        // would not run), so a client that checks readiness and then publishes is never refused.
        const consuming = config.amqpUrl === 'off' || amqpIntake?.state() === 'consuming';
        return {
          ready: database === 'up',
          accepting: database === 'up' && consuming,
          parts: {
            database: { state: database, kind: db.embedded ? 'embedded PGlite' : 'PostgreSQL' },
            worker: deliveryThread ? `${deliveryThread.state()} on its own thread` : worker ? 'running' : 'off',
            intakeFlow: flow.state(),
            lookupCache: lookups.state(),
            // States, not paths: /health answers anyone (issue 15 point 6).
            email: config.smtpUrl ? 'smtp' : `eml files, ${await folderState(config.emailOutboxDir)}`,
            amqp: amqpIntake ? { state: amqpIntake.state(), queue: config.amqpQueue } : 'off',
            print: await folderState(config.printDir),
            archive: await folderState(config.archiveDir),
          },
        };
      },
    });
    const t = config.http;
    server = http.createServer(
      {
        headersTimeout: Math.min(t.headersTimeoutMs, t.requestTimeoutMs),
        requestTimeout: t.requestTimeoutMs,
        keepAliveTimeout: t.keepAliveTimeoutMs,
        // Node looks for requests past those timeouts only this often (30 s by default): a slowloris would outlive them.
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(t.headersTimeoutMs / 2))),
      },
      app.callback(),
    );
    // A connection silent this long (a body that stalls, an answer never read) is closed.
    server.setTimeout(t.idleTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.port, config.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    // The address really bound, as the operator must know it; the url this process and its tests call is a local one.
    const bound = `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    const local = addr.address === '0.0.0.0' || addr.address === '::' ? (addr.family === 'IPv6' ? '[::1]' : '127.0.0.1') : bound.slice(0, bound.lastIndexOf(':'));
    url = `http://${local}:${addr.port}`;
    log.info({ listening: bound, url, embedded: db.embedded }, `gateway ready on http://${bound}`);
  }

  // The queue intake: the broker being away never blocks the start or the other intakes (SPEC §8).
  if (intakes && config.amqpUrl !== 'off') {
    amqpIntake = await startAmqpIntake({
      url: config.amqpUrl,
      queue: config.amqpQueue,
      ...config.amqp,
      maxBytes: config.limits.maxRequestBytes,
      memory: bodyMemory,
      knownClient: async (key: string) => Boolean((await deps.store.findClient(key))?.enabled),
      log: log.child({ part: 'amqp' }),
      send,
      resend,
    });
  }

  return {
    config,
    db,
    log,
    worker,
    deliveryThread,
    url,
    async stop() {
      await amqpIntake?.stop();
      if (server) {
        server.closeIdleConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      flow.close();
      await delivery?.stop();
      await deliveryThread?.stop();
      await lookups.close();
      await db.knex.destroy();
    },
  };
}

/** A process that only delivers (`npm run worker`, `--worker-only`): the database and the worker, no intakes. */
export async function startWorkerOnly(config: Config, log: Logger): Promise<Gateway> {
  const db = await openGatewayDb(config, log);
  const delivery = startDelivery(config, db, log.child({ part: 'worker' }));
  return {
    config,
    db,
    log,
    worker: delivery.worker,
    url: '',
    async stop() {
      await delivery.stop();
      await db.knex.destroy();
    },
  };
}
