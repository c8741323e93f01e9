// Resolving caller-given paths under a configured root, never outside it (SPEC §1 RELATIVE_FILE_PATH, ARCHIVE_RELATIVE_PATH).
import fs from 'node:fs/promises';
import path from 'node:path';
import { AttachmentError } from '../core/errors.js';

/** A leading `/` means the root itself; `..` or a symlink that leads out is refused with code 5. */
export async function resolveUnder(root: string, relative: string, field: string): Promise<string> {
  const refuse = (why: string) => new AttachmentError([{ code: 5, field, text: `${field} ${why}` }]);
  if (relative.includes('\0')) throw refuse('contains a NUL character');
  const target = path.resolve(root, `.${path.sep}${relative.replace(/^[/\\]+/, '')}`);
  const rootReal = await fs.realpath(root).catch(() => path.resolve(root));
  if (!isInside(path.resolve(root), target)) throw refuse('points outside its root folder');
  // Follow symlinks as far as the path exists, and check again.
  let existing = target;
  for (;;) {
    try {
      const real = await fs.realpath(existing);
      if (!isInside(rootReal, real)) throw refuse('points outside its root folder');
      break;
    } catch (e) {
      if (e instanceof AttachmentError) throw e;
      const up = path.dirname(existing);
      if (up === existing) break;
      existing = up;
    }
  }
  return target;
}

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
