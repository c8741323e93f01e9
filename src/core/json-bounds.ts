// Bounds on a JSON body's shape, checked before JSON.parse: a million keys froze the process for seconds (issue 15).
import { ValidationError } from './errors.js';

/** Generous for a JSON:API batch (thousands of items with their included resources). */
export const MAX_JSON_KEYS = 100_000;
/** Arrays and objects nested deeper than this are refused (JSON.parse itself would recurse on them). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * One linear pass that stops at the first excess: keys are counted by the `:` outside strings, depth by the
 * brackets; strings are skipped with indexOf, so a large base64 string costs little. Malformed JSON passes here
 * and is JSON.parse's to name.
 */
export function jsonShapeExcess(text: string, maxKeys = MAX_JSON_KEYS, maxDepth = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return undefined;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return `is nested deeper than ${maxDepth} levels`;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x3a && ++keys > maxKeys) {
      return `has more than ${maxKeys} keys`;
    }
  }
  return undefined;
}

/** Throws code 1 naming `field` (what the body is called on its wire) when the text is past a bound. */
export function checkJsonShape(text: string, field: string, what = 'the body'): void {
  const excess = jsonShapeExcess(text);
  if (excess) throw new ValidationError([{ code: 1, field, text: `${what} ${excess}` }]);
}
