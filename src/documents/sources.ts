// File-system attachment sources under SOURCE_DIR (SPEC §1 ATTACHMENT_SOURCE=FS): each client reads only its own folder.
import fs from 'node:fs/promises';
import path from 'node:path';
import { AttachmentError } from '../core/errors.js';
import type { FileSources } from '../core/ports.js';
import { resolveUnder } from './paths.js';

/** `folder` is a single safe path segment (admin API): the client's root is that folder of the configured one. */
export function createFileSources(root: string, archiveRoot: string): FileSources {
  return {
    async read(folder, relativePath, field) {
      const file = await resolveUnder(path.join(root, folder), relativePath, field);
      try {
        const st = await fs.stat(file);
        if (!st.isFile()) throw new Error('not a file');
        return await fs.readFile(file);
      } catch {
        throw new AttachmentError([{ code: 5, field, text: `${field} ${JSON.stringify(relativePath)} is not a readable file in the source folder` }]);
      }
    },
    async checkArchivePath(folder, relativePath, field) {
      await resolveUnder(path.join(archiveRoot, folder), relativePath, field);
    },
    async remove(folder, relativePath) {
      await fs.unlink(await resolveUnder(path.join(root, folder), relativePath, 'RELATIVE_FILE_PATH'));
    },
  };
}
