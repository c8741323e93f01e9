// Wires the parts from one Config: database, core, intakes, worker, HTTP; stops them in reverse order.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createSoapAdapter } from './adapters/soap/soap.js';
import { restRoutes } from './adapters/rest/rest.js';
import type { Channel } from './channels/channel.js';
import { startAmqpIntake, type AmqpIntake } from './adapters/amqp/consumer.js';
import { httpStatusOf } from './api/jsonapi.js';
import { createArchiveChannel } from './channels/archive/archive.js';
import { createEmailChannel } from './channels/email/email.js';
import { createPortalChannel } from './channels/portal/portal.js';
import { createPostChannel } from './channels/post/post.js';
import { documentRoutes } from './api/documents.js';
import { portalRoutes } from './api/portal.js';
import { adminRoutes } from './api/admin.js';
import { keyInQueryRule } from './api/caller.js';
import { portalKeyRoutes } from './api/portal-keys.js';
import { createClientStore, letterSender, sealStoredSecrets } from './store/clients.js';
import { cachedLookups } from './store/lookup-cache.js';
import { templateRoutes } from './api/templates.js';
import { createTemplateStore } from './store/templates.js';
import { statusRoutes } from './api/status.js';
import { createMessageQueries } from './store/messages.js';
import { createArchiver } from './documents/archive.js';
import { createCertifier } from './documents/certify.js';
import type { SigningCertificate } from './documents/signing.js';
import { createDocumentStore } from './store/documents.js';
import { createPortalStore } from './store/portal.js';
import { createPortalKeyStore } from './store/portal-keys.js';
import { createPipeline } from './worker/pipeline.js';
import { createMetrics, metricsRoute } from './metrics.js';
import { deliversOnThread, type Config } from './config.js';
import { acceptSendRequest, type AcceptDeps } from './core/accept.js';
import { createIntakeFlow } from './core/intake-flow.js';
import { BodyMemory } from './core/memory-budget.js';
import type { ChannelName } from './core/send-request.js';
import { resendMessage } from './core/resend.js';
import { createFileSources } from './documents/sources.js';
import { createHttpApp } from './http.js';
import { createLogger } from './log.js';
import { migrate, openDb, type Db } from './store/db.js';
import { installDemoSources, loadDemoFixtures, projectRoot } from './store/fixtures.js';
import { createJobStore } from './store/jobs.js';
import { purgeExpiredKeys } from './store/purge.js';
import { createSendStore } from './store/send-store.js';
import { createRateLimits } from './store/rate-limits.js';
import { createWorker, type Worker } from './worker/worker.js';
import { startDeliveryThread, type DeliveryThread } from './worker/delivery-thread.js';
import type { Outcome } from './channels/channel.js';

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
  /** The schema is migrated and the fixtures loaded already (the delivery thread of a running gateway). */
  prepared?: boolean;
  /** Told every delivery outcome instead of this gateway's metrics (the delivery thread reports them to its gateway). */
  onOutcome?: (channel: string, outcome: Outcome) => void;
  /** Told every takeover of jobs instead of this gateway's metrics (as onOutcome). */
  onTakeover?: (n: number) => void;
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

/** Every channel of SPEC §4, and the certifier the worker and the POST channel share. */
function createChannels(config: Config, db: Db) {
  const email = createEmailChannel({ smtpUrl: config.smtpUrl, poolSize: config.smtpPoolSize, outboxDir: config.emailOutboxDir, messageIdDomain: config.messageIdDomain, timeoutMs: config.smtpTimeoutMs });
  let cert: Promise<SigningCertificate> | undefined;
  // Loaded (or generated) on first use, so a start without certified messages pays nothing.
  const certificate = (): Promise<SigningCertificate> => {
    if (!cert) {
      const loading = import('./documents/signing.js').then((m) => m.loadOrCreateCertificate({ ...config.certificate, dataDir: config.dataDir }));
      cert = loading;
      loading.catch(() => {
        if (cert === loading) cert = undefined; // a failed load is tried again on the next message
      });
    }
    return cert;
  };
  const certifier = createCertifier(db.knex, certificate, { name: 'Hammy Gateway', location: 'Hungary', contactInfo: 'hammy-gateway' });
  // Read for every letter: a changed name or postal address shows on the next one.
  const sender = (clientId: number) => letterSender(db.knex, clientId);
  const byName: Record<ChannelName, Channel> = {
    EMAIL: email,
    POST: createPostChannel({ knex: db.knex, printDir: config.printDir, certifier, sender, documentTimeoutMs: config.documentTimeoutMs }),
    PORTAL: createPortalChannel(db.knex, email),
    ARCHIVE: createArchiveChannel(),
  };
  return { byName, certifier };
}

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const log = opts.log ?? createLogger(config.logLevel);
  const root = projectRoot();
  await fs.mkdir(config.dataDir, { recursive: true });
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, poolMax: config.dbPoolMax, log });
  const applied = opts.prepared ? [] : await migrate(db);
  if (applied.length) log.info({ applied }, 'migrations applied');
  if (!opts.prepared) {
    const sealed = await sealStoredSecrets(db.knex, config.secretsKey).catch(async (e) => {
      await db.knex.destroy();
      throw e;
    });
    if (sealed) log.info({ clients: sealed }, 'JWT secrets stored in clear were encrypted with SECRETS_KEY');
  }
  if (config.fixtures === 'demo' && !opts.prepared) {
    const demo = await loadDemoFixtures(db.knex, path.join(root, 'fixtures'));
    await installDemoSources(path.join(config.sourceDir, demo.filesFolder), path.join(root, 'fixtures'));
    log.warn('demo fixtures loaded: the demo client\'s key is public (README); set FIXTURES=none on a gateway others can reach');
  }

  if (config.allowKeyInQuery) log.warn('ALLOW_KEY_IN_QUERY=true: client keys are accepted in query strings, where access logs and proxies keep them');
  const channels = createChannels(config, db);
  const metrics = createMetrics(db.knex);
  const jobStore = createJobStore(db.knex);
  const intakes = opts.http !== false;
  const delivering = opts.worker ?? config.worker.enabled;
  let worker: Worker | undefined;
  let deliveryThread: DeliveryThread | undefined;
  if (delivering && intakes && deliversOnThread(config)) {
    deliveryThread = await startDeliveryThread({ config, log: log.child({ part: 'worker' }), onOutcomes: metrics.deliveries, onTakeovers: metrics.takeovers });
  } else if (delivering) {
    const pipeline = createPipeline({ channels: channels.byName, certifier: channels.certifier, archiver: createArchiver(db.knex, config.archiveDir), jobs: jobStore, documentTimeoutMs: config.documentTimeoutMs });
    worker = createWorker({
      jobs: jobStore,
      pipeline,
      log: log.child({ part: 'worker' }),
      ...config.worker,
      purge: () => purgeExpiredKeys(db.knex, config.idempotencyWindowMs),
      onOutcome: opts.onOutcome ?? metrics.delivery,
      onTakeover: opts.onTakeover ?? metrics.takeovers,
    });
    worker.start();
  }

  // One budget for every body this process holds in memory, whatever its wire (README "Configuration").
  const bodyMemory = new BodyMemory(config.bodyMemory);
  const batch = config.acceptBatchMax > 1 ? { maxBatch: config.acceptBatchMax, maxConcurrent: 2 } : undefined;
  const lookups = cachedLookups(createSendStore(db.knex, { batch, memory: bodyMemory, secretsKey: config.secretsKey }), {
    knex: db.knex,
    // Without intakes (a worker-only process, the delivery thread) nothing reads clients or templates through the
    // cache: no cache, and no listener connection held for it.
    ttlMs: intakes ? config.lookupCacheMs : 0,
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
    const soap = await createSoapAdapter(path.join(root, 'wsdl', 'send-v2.wsdl'), { send, resend }, log.child({ part: 'soap' }));
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
      httpStatusOf,
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
      await worker?.stop();
      await deliveryThread?.stop();
      await Promise.all(Object.values(channels.byName).map((c) => c.close()));
      await lookups.close();
      await db.knex.destroy();
    },
  };
}
