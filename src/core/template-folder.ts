// A folder of template versions as files: the demo fixtures and `hammy template import` read the same layout.
import fs from 'node:fs/promises';
import path from 'node:path';

export type TemplateFiles = { messageType: string; version: number; subject: string; textBody?: string; htmlBody?: string; defaultChannel?: string; active: boolean };

/** Reads `<dir>/<messageType>/<version>/{meta.json,subject.hbs,text.hbs,html.hbs}`. */
export async function readTemplateFolder(dir: string): Promise<TemplateFiles[]> {
  const out: TemplateFiles[] = [];
  const opt = (f: string) => fs.readFile(f, 'utf8').catch(() => undefined);
  for (const messageType of (await fs.readdir(dir)).sort()) {
    for (const v of (await fs.readdir(path.join(dir, messageType))).sort()) {
      const d = path.join(dir, messageType, v);
      const meta = JSON.parse((await opt(path.join(d, 'meta.json'))) ?? '{}');
      out.push({
        messageType,
        version: Number(v),
        subject: (await fs.readFile(path.join(d, 'subject.hbs'), 'utf8')).trim(),
        textBody: await opt(path.join(d, 'text.hbs')),
        htmlBody: await opt(path.join(d, 'html.hbs')),
        defaultChannel: meta.defaultChannel,
        active: meta.active !== false,
      });
    }
  }
  return out;
}
