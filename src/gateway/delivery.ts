// Composition: delivery (channels, documents, the pipeline and the worker loop) over a database, in this process or
// on a delivery thread; the same parts for the gateway, `npm run worker` and the thread (main.ts).
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Channel, Outcome } from '../core/delivery.js';
import type { ChannelName } from '../core/send-request.js';
import { createArchiveChannel } from '../channels/archive/archive.js';
import { createEmailChannel } from '../channels/email/email.js';
import { createPortalChannel } from '../channels/portal/portal.js';
import { createPostChannel } from '../channels/post/post.js';
import { createArchiver } from '../documents/archive.js';
import { createCertifier } from '../documents/certify.js';
import type { SigningCertificate } from '../documents/signing.js';
import { createArchiveStore } from '../store/archive-entries.js';
import { createLetterSenders } from '../store/letter-senders.js';
import type { Db } from '../store/db.js';
import { createJobStore } from '../store/jobs.js';
import { createPrintLedger } from '../store/print-items.js';
import { createPublisher } from '../store/publish.js';
import { purgeExpiredKeys } from '../store/purge.js';
import { createSignedAttachments } from '../store/signed-attachments.js';
import { startDeliveryThread, type DeliveryThread } from '../worker/delivery-thread.js';
import { createPipeline } from '../worker/pipeline.js';
import { createWorker, type Worker } from '../worker/worker.js';

export type DeliveryHooks = {
  /** Told every delivery outcome, for metrics. */
  onOutcome?: (channel: string, outcome: Outcome) => void;
  /** Told every takeover of jobs whose lease expired, for metrics. */
  onTakeover?: (n: number) => void;
};

/** Every channel of SPEC §4, and the certifier the pipeline and the POST channel share. */
function createChannels(config: Config, db: Db) {
  const email = createEmailChannel({ smtpUrl: config.smtpUrl, poolSize: config.smtpPoolSize, outboxDir: config.emailOutboxDir, messageIdDomain: config.messageIdDomain, timeoutMs: config.smtpTimeoutMs });
  let cert: Promise<SigningCertificate> | undefined;
  // Loaded (or generated) on first use, so a start without certified messages pays nothing.
  const certificate = (): Promise<SigningCertificate> => {
    if (!cert) {
      const loading = import('../documents/signing.js').then((m) => m.loadOrCreateCertificate({ ...config.certificate, dataDir: config.dataDir }));
      cert = loading;
      loading.catch(() => {
        if (cert === loading) cert = undefined; // a failed load is tried again on the next message
      });
    }
    return cert;
  };
  const certifier = createCertifier(createSignedAttachments(db.knex), certificate, { name: 'Hammy Gateway', location: 'Hungary', contactInfo: 'hammy-gateway' });
  const byName: Record<ChannelName, Channel> = {
    EMAIL: email,
    POST: createPostChannel({ store: createPrintLedger(db.knex), printDir: config.printDir, certifier, sender: createLetterSenders(db.knex), documentTimeoutMs: config.documentTimeoutMs }),
    PORTAL: createPortalChannel(email),
    ARCHIVE: createArchiveChannel(),
  };
  return { byName, certifier };
}

/** A started worker over `db`; stop() waits for the deliveries in flight, then closes the channels (not the database). */
export function startDelivery(config: Config, db: Db, log: Logger, hooks: DeliveryHooks = {}): { worker: Worker; stop(): Promise<void> } {
  const channels = createChannels(config, db);
  const jobs = createJobStore(db.knex);
  const pipeline = createPipeline({ channels: channels.byName, certifier: channels.certifier, archiver: createArchiver(createArchiveStore(db.knex), config.archiveDir), jobs, documentTimeoutMs: config.documentTimeoutMs });
  const worker = createWorker({
    jobs,
    pipeline,
    publish: createPublisher(db.knex),
    log,
    ...config.worker,
    purge: () => purgeExpiredKeys(db.knex, config.idempotencyWindowMs),
    ...hooks,
  });
  worker.start();
  return {
    worker,
    async stop() {
      await worker.stop();
      await Promise.all(Object.values(channels.byName).map((c) => c.close()));
    },
  };
}

/** What main.ts is given on a delivery thread. */
export type DeliveryThreadData = { mode: 'delivery-thread'; config: Config; logLevel: string };

/** The worker on a thread of this process (WORKER_THREAD): main.ts runs there, composing startDelivery. */
export function startDeliveryOnThread(config: Config, log: Logger, counts: { onOutcomes?: (channel: string, outcome: string, n: number) => void; onTakeovers?: (n: number) => void } = {}): Promise<DeliveryThread> {
  const entry = new URL(import.meta.url.endsWith('.ts') ? '../main.ts' : '../main.js', import.meta.url);
  const data: DeliveryThreadData = { mode: 'delivery-thread', config, logLevel: log.level };
  return startDeliveryThread({ entry, data, log, ...counts });
}
