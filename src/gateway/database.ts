// Composition: the database a gateway, worker or delivery thread runs on, migrated and seeded at start (SPEC §9).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { projectRoot } from '../core/project-root.js';
import { sealStoredSecrets } from '../store/clients.js';
import { migrate, openDb, type Db } from '../store/db.js';
import { installDemoSources, loadDemoFixtures } from '../store/fixtures.js';

/** prepared: the schema is migrated and the fixtures loaded already (the delivery thread of a running gateway). */
export async function openGatewayDb(config: Config, log: Logger, o: { prepared?: boolean } = {}): Promise<Db> {
  await fs.mkdir(config.dataDir, { recursive: true });
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, poolMax: config.dbPoolMax, log });
  if (o.prepared) return db;
  const applied = await migrate(db);
  if (applied.length) log.info({ applied }, 'migrations applied');
  const sealed = await sealStoredSecrets(db.knex, config.secretsKey).catch(async (e) => {
    await db.knex.destroy();
    throw e;
  });
  if (sealed) log.info({ clients: sealed }, 'JWT secrets stored in clear were encrypted with SECRETS_KEY');
  if (config.fixtures === 'demo') {
    const fixtures = path.join(projectRoot(), 'fixtures');
    const demo = await loadDemoFixtures(db.knex, fixtures);
    await installDemoSources(path.join(config.sourceDir, demo.filesFolder), fixtures);
    log.warn('demo fixtures loaded: the demo client\'s key is public (README); set FIXTURES=none on a gateway others can reach');
  }
  return db;
}
