// FIXTURES=demo: the demo client and its templates, loaded from fixtures/demo (idempotent: safe at every start).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { keyHash } from '../core/secrets.js';
import { readTemplateFolder } from '../core/template-folder.js';
import { filesFolderOf } from './clients.js';

/** Answers the demo client's folder (under SOURCE_DIR and ARCHIVE_DIR). Its key is public, so only its hash is stored like any other. */
export async function loadDemoFixtures(knex: Knex, fixturesDir: string): Promise<{ filesFolder: string }> {
  const client = JSON.parse(await fs.readFile(path.join(fixturesDir, 'demo', 'client.json'), 'utf8'));
  const key_hash = keyHash(client.hashKey);
  await knex('clients')
    .insert({ key_hash, name: client.name, default_from_address: client.defaultFromAddress, default_from_name: client.defaultFromName, files_folder: client.filesFolder })
    .onConflict('key_hash')
    .ignore();
  const row = await knex('clients').where({ key_hash }).first('id', 'files_folder');
  const id = row.id;
  const templates = await readTemplateFolder(path.join(fixturesDir, 'demo', 'templates'));
  await knex('templates')
    .insert(
      templates.map((t) => ({
        client_id: id,
        message_type: t.messageType,
        version: t.version,
        subject: t.subject,
        text_body: t.textBody,
        html_body: t.htmlBody,
        default_channel: t.defaultChannel,
        active: t.active,
      })),
    )
    .onConflict(['client_id', 'message_type', 'version'])
    .ignore();
  return { filesFolder: filesFolderOf(row) };
}

/** The queue samples of the Hammy page read `test.pdf` (ATTACHMENT_SOURCE=FS): the demo puts it in the demo client's folder of SOURCE_DIR. */
export async function installDemoSources(sourceDir: string, fixturesDir: string): Promise<void> {
  await fs.mkdir(sourceDir, { recursive: true });
  await fs.copyFile(path.join(fixturesDir, 'files', 'test.pdf'), path.join(sourceDir, 'test.pdf'), fs.constants.COPYFILE_EXCL).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  });
}
