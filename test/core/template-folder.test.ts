// A folder of template versions as files (core/template-folder.ts), read from a temporary folder.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readTemplateFolder } from '../../src/core/template-folder.js';

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hammy-template-folder-'));
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), text);
  }
  return dir;
}

describe('template-folder: readTemplateFolder', () => {
  const made: string[] = [];
  const make = async (files: Record<string, string>) => {
    const dir = await folder(files);
    made.push(dir);
    return dir;
  };
  after(() => Promise.all(made.map((d) => fs.rm(d, { recursive: true, force: true }))));

  it('reads <type>/<version>/{meta.json,subject.hbs,text.hbs,html.hbs}, types in name order', async () => {
    const dir = await make({
      'reminder/1/subject.hbs': 'Reminder\n',
      'reminder/1/html.hbs': '<p>{{a}}</p>\n',
      'reminder/1/meta.json': '{"defaultChannel":"EMAIL","active":false}',
      'invoice/1/subject.hbs': '  Invoice {{n}}  \n',
      'invoice/1/text.hbs': 'Dear {{name}}\n',
    });
    assert.deepEqual(await readTemplateFolder(dir), [
      { messageType: 'invoice', version: 1, subject: 'Invoice {{n}}', textBody: 'Dear {{name}}\n', htmlBody: undefined, defaultChannel: undefined, active: true },
      { messageType: 'reminder', version: 1, subject: 'Reminder', textBody: undefined, htmlBody: '<p>{{a}}</p>\n', defaultChannel: 'EMAIL', active: false },
    ]);
  });

  it('each version folder is one entry with its number; bodies are kept as written (only the subject is trimmed)', async () => {
    const dir = await make({ 'a/1/subject.hbs': 's1', 'a/2/subject.hbs': 's2', 'a/2/text.hbs': '  two  ', 'a/2/meta.json': '{"active":true}' });
    const read = await readTemplateFolder(dir);
    assert.deepEqual(read.map((t) => [t.version, t.subject, t.textBody, t.active]), [[1, 's1', undefined, true], [2, 's2', '  two  ', true]]);
  });

  it('an empty folder reads as no templates', async () => {
    assert.deepEqual(await readTemplateFolder(await make({})), []);
  });

  it('a version without subject.hbs, a bad meta.json, a missing folder are errors for the caller to report', async () => {
    await assert.rejects(readTemplateFolder(await make({ 'a/1/text.hbs': 't' })), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    await assert.rejects(readTemplateFolder(await make({ 'a/1/subject.hbs': 's', 'a/1/meta.json': '{not json' })), SyntaxError);
    await assert.rejects(readTemplateFolder(path.join(os.tmpdir(), 'hammy-no-such-folder-' + process.pid)), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it('reads the demo fixtures the gateway installs', async () => {
    const demo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/demo/templates');
    const read = await readTemplateFolder(demo);
    assert.ok(read.length > 0);
    for (const t of read) {
      assert.ok(Number.isInteger(t.version) && t.version > 0, `${t.messageType} version ${t.version}`);
      assert.ok(t.subject.length > 0 && (t.textBody !== undefined || t.htmlBody !== undefined), t.messageType);
    }
  });
});
