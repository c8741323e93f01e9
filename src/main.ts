// Entry point: config, start every part (or only the worker with --worker-only), stop cleanly on SIGTERM.
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';
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
  const { startGateway } = await import('./gateway.js');
  const gw = await startGateway(config, workerOnly ? { http: false, worker: true } : {});
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

main().catch((e) => {
  console.error('start failed:', e instanceof Error ? e.message : e);
  process.exit(1);
});
