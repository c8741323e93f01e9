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
  // Follow symlinks along the part of the path that exists below the root, and check again.
  for (let existing = target; isInside(path.resolve(root), existing); existing = path.dirname(existing)) {
    const real = await fs.realpath(existing).catch(() => undefined);
    if (real === undefined) continue;
    if (!isInside(rootReal, real)) throw refuse('points outside its root folder');
    break;
  }
  return target;
}

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
