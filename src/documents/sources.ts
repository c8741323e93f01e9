// File-system attachment sources under SOURCE_DIR (SPEC §1 ATTACHMENT_SOURCE=FS).
import fs from 'node:fs/promises';
import { AttachmentError } from '../core/errors.js';
import type { FileSources } from '../core/ports.js';
import { resolveUnder } from './paths.js';

export function createFileSources(root: string, archiveRoot: string): FileSources {
  return {
    async read(relativePath, field) {
      const file = await resolveUnder(root, relativePath, field);
      try {
        const st = await fs.stat(file);
        if (!st.isFile()) throw new Error('not a file');
        return await fs.readFile(file);
      } catch {
        throw new AttachmentError([{ code: 5, field, text: `${field} ${JSON.stringify(relativePath)} is not a readable file in the source folder` }]);
      }
    },
    async checkArchivePath(relativePath, field) {
      await resolveUnder(archiveRoot, relativePath, field);
    },
    async remove(relativePath) {
      await fs.unlink(await resolveUnder(root, relativePath, 'RELATIVE_FILE_PATH'));
    },
  };
}
