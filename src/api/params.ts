// Query parameters of the read APIs: each checked and named when wrong; cursor paging, newest first.
import { parameterIssue, ValidationError, type Issue } from '../core/errors.js';

type Query = Record<string, string | string[] | undefined>;
export const PAGE_SIZE = { default: 50, max: 500 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Collects every bad parameter before answering, so a caller fixes them in one round. */
export class QueryReader {
  readonly issues: Issue[] = [];
  constructor(private readonly query: Query) {}

  string(name: string, max = 255): string | undefined {
    const v = this.query[name];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return this.bad(name, `${name} must be given once`);
    if (v.length > max) return this.bad(name, `${name} must be at most ${max} characters`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined || (values as readonly string[]).includes(v)) return v as T | undefined;
    return this.bad(name, `${name} must be one of ${values.join(', ')}`);
  }

  /** An ISO 8601 date (its midnight UTC) or a date-time with its zone: never the server's local time. */
  date(name: string): Date | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const d = ISO_DATE.test(v) ? new Date(v) : undefined;
    // Date rolls 2026-02-31 over into March: the calendar date written must be the one parsed.
    const [y, mo, da] = v.slice(0, 10).split('-').map(Number);
    const real = d && !Number.isNaN(d.getTime()) && new Date(Date.UTC(y!, mo! - 1, da!)).toISOString().slice(0, 10) === v.slice(0, 10) && !/T24:/.test(v);
    if (!real) return this.bad(name, `${name} must be an ISO 8601 date or date-time, e.g. 2026-11-01T00:00:00Z`);
    return d;
  }

  /** `page[size]` (default 50, at most 500) and the opaque cursor `page[after]`. */
  page(): { size: number; after?: number } {
    const rawSize = this.string('page[size]');
    let size = PAGE_SIZE.default;
    if (rawSize !== undefined) {
      size = /^\d+$/.test(rawSize) ? Number(rawSize) : NaN;
      if (!(size >= 1 && size <= PAGE_SIZE.max)) this.bad('page[size]', `page[size] must be an integer from 1 to ${PAGE_SIZE.max}`);
    }
    const cursor = this.string('page[after]');
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && after === undefined) this.bad('page[after]', 'page[after] must be a cursor from a links.next of this API');
    return { size, after };
  }

  /** Throws one ValidationError with every bad parameter found so far. */
  check(): void {
    if (this.issues.length) throw new ValidationError(this.issues);
  }

  private bad(name: string, text: string): undefined {
    this.issues.push(parameterIssue(name, text));
    return undefined;
  }
}

/** The cursor is the last row's id, base64url-encoded: opaque to callers, so its form may change. */
export const encodeCursor = (id: number) => Buffer.from(`m:${id}`).toString('base64url');
function decodeCursor(cursor: string): number | undefined {
  const m = /^m:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}

/**
 * One page of rows fetched with one extra (see store/messages.ts): the page itself, and `links.next` with the
 * same parameters and the cursor of its last row when more rows exist.
 */
export function pageOf<R extends { id: number }>(rows: R[], size: number, path: string, querystring: string) {
  const items = rows.slice(0, size);
  const self = querystring ? `${path}?${querystring}` : path;
  let next: string | null = null;
  if (rows.length > size) {
    const q = new URLSearchParams(querystring);
    q.set('page[after]', encodeCursor(items.at(-1)!.id));
    // Brackets kept readable, as JSON:API writes page[after]; koa reads both forms.
    next = `${path}?${q.toString().replace(/%5B/gi, '[').replace(/%5D/gi, ']')}`;
  }
  return { items, links: { self, next } };
}
