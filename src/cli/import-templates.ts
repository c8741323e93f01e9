// `hammy template import <folder>`: each version folder becomes a new version, unless the client already has one just like it.
import { readTemplateFolder, type TemplateFiles } from '../core/template-folder.js';
import { call, CliError, type Connection } from './gateway-client.js';

const TEMPLATES = '/hammy/json/send/v2/templates';
type Sources = { subject: string; textBody: string | null; htmlBody: string | null; defaultChannel: string | null };
export type ImportLine = { messageType: string; folderVersion: number; outcome: 'imported' | 'unchanged' | 'refused'; version?: number; text: string };

const same = (a: Sources, b: Sources) =>
  a.subject === b.subject && a.textBody === b.textBody && a.htmlBody === b.htmlBody && (a.defaultChannel ?? null) === (b.defaultChannel ?? null);
const sourcesOf = (t: TemplateFiles): Sources => ({ subject: t.subject, textBody: t.textBody ?? null, htmlBody: t.htmlBody ?? null, defaultChannel: t.defaultChannel ?? null });

/**
 * Folder layout `<folder>/<messageType>/<n>/{subject.hbs,text.hbs,html.hbs,meta.json}` (as fixtures/demo/templates):
 * versions are imported in the order of n; the gateway numbers them. Re-running an import changes nothing.
 */
export async function importTemplates(conn: Connection, folder: string, onLine: (l: ImportLine) => void): Promise<ImportLine[]> {
  const files = await readTemplateFolder(folder).catch((e) => {
    throw new CliError(`cannot read templates from ${folder}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (expected <folder>/<messageType>/<n>/subject.hbs …)`);
  });
  if (!files.length) throw new CliError(`no templates in ${folder} (expected <folder>/<messageType>/<n>/subject.hbs …)`);
  files.sort((a, b) => a.messageType.localeCompare(b.messageType) || a.version - b.version);

  const listed: { attributes: { messageType: string; version: number } }[] = (await call(conn, TEMPLATES, { auth: 'client' })).data;
  const known = new Map<string, { version: number; sources: Sources }[]>();
  const versionsOf = async (messageType: string) => {
    if (!known.has(messageType)) {
      const versions = listed.filter((t) => t.attributes.messageType === messageType).map((t) => t.attributes.version);
      const loaded = await Promise.all(
        versions.map(async (v) => ({ version: v, sources: (await call(conn, `${TEMPLATES}/${encodeURIComponent(messageType)}/versions/${v}`, { auth: 'client' })).data.attributes as Sources })),
      );
      known.set(messageType, loaded);
    }
    return known.get(messageType)!;
  };

  const lines: ImportLine[] = [];
  const report = (l: ImportLine) => {
    lines.push(l);
    onLine(l);
  };
  for (const t of files) {
    const base = { messageType: t.messageType, folderVersion: t.version };
    const existing = await versionsOf(t.messageType);
    const twin = existing.find((e) => same(e.sources, sourcesOf(t)));
    if (twin) {
      report({ ...base, outcome: 'unchanged', version: twin.version, text: `${t.messageType} ${t.version}: unchanged (same as version ${twin.version})` });
      continue;
    }
    try {
      const made = await call(conn, TEMPLATES, { auth: 'client', body: { data: { type: 'templates', attributes: { messageType: t.messageType, ...sourcesOf(t), active: t.active } } } });
      const version = made.data.attributes.version as number;
      existing.push({ version, sources: sourcesOf(t) });
      report({ ...base, outcome: 'imported', version, text: `${t.messageType} ${t.version}: imported as version ${version}${t.active ? '' : ' (inactive)'}` });
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      report({ ...base, outcome: 'refused', text: `${t.messageType} ${t.version}: refused\n${e.message.replace(/^/gm, '    ')}` });
    }
  }
  return lines;
}
