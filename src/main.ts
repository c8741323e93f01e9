// The one composition root: the gateway (intakes and delivery), a worker alone (--worker-only, `npm run worker`), or
// the delivery thread a gateway starts (WORKER_THREAD); each stops cleanly on SIGTERM.
import path from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import { ConfigError, loadConfig } from './config.js';
import type { DeliveryThreadData } from './gateway/delivery.js';
import { prepareDataDir } from './store/embedded-dir.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const workerOnly = process.argv.includes('--worker-only');
  // A new embedded database is copied from the template while the rest of the gateway loads (cold start).
  const copying = config.databaseUrl ? undefined : prepareDataDir(path.join(config.dataDir, 'db'));
  copying?.catch(() => undefined); // its error is reported by the start, which gets the same promise
  const { startGateway, startWorkerOnly } = await import('./gateway.js');
  const { createLogger } = await import('./log.js');
  const log = createLogger(config.logLevel);
  const gw = workerOnly ? await startWorkerOnly(config, log) : await startGateway(config, { log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    gw.log.info({ signal }, 'stopping');
    await gw.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** On a delivery thread: the worker with its own database pool and SMTP connections, told its config by the gateway thread. */
async function deliveryThread(data: DeliveryThreadData) {
  const [{ serveDeliveryThread }, { openGatewayDb }, { startDelivery }, { createLogger }] = await Promise.all([
    import('./worker/thread.js'),
    import('./gateway/database.js'),
    import('./gateway/delivery.js'),
    import('./log.js'),
  ]);
  await serveDeliveryThread(async (hooks) => {
    const log = createLogger(data.logLevel).child({ thread: 'delivery' });
    const db = await openGatewayDb(data.config, log, { prepared: true });
    try {
      const delivery = startDelivery(data.config, db, log.child({ part: 'worker' }), hooks);
      return {
        workerId: delivery.worker.workerId,
        wake: () => delivery.worker.wake(),
        async stop() {
          await delivery.stop();
          await db.knex.destroy();
        },
      };
    } catch (e) {
      await db.knex.destroy();
      throw e;
    }
  });
}

const thread = isMainThread ? undefined : (workerData as DeliveryThreadData | undefined);
(thread?.mode === 'delivery-thread' ? deliveryThread(thread) : main()).catch((e) => {
  console.error('start failed:', e instanceof Error ? e.message : e);
  process.exit(1);
});
