// The calling client of the status, history and template APIs, authenticated as the REST send API does (SPEC §3).
import { verifyClient } from '../core/auth.js';
import type { ClientRecord, SendStore } from '../core/ports.js';
import { parameterIssue, ValidationError } from '../core/errors.js';

type Ctx = { get(header: string): string; query: Record<string, unknown> };

/** Hash key from `X-Client-Hash-Key` or `?clientHashKey=`; a client with JWT settings also needs its token. */
export function callerOf(store: SendStore): (ctx: Ctx) => Promise<ClientRecord> {
  return (ctx) => verifyClient(store, ctx.get('x-client-hash-key') || ctx.query.clientHashKey, ctx.get('authorization') || undefined);
}

/**
 * Credentials never in URLs (issue 15 point 7): URLs end up in access logs, proxies and browser history, so a
 * key in the query is refused, naming the parameter, on every route registered after this one; ALLOW_KEY_IN_QUERY
 * keeps the old behaviour for integrators that cannot send the header.
 */
export function keyInQueryRule(allow: boolean) {
  return async (ctx: { query: Record<string, unknown> }, next: () => Promise<unknown>) => {
    if (!allow && ctx.query.clientHashKey !== undefined) {
      throw new ValidationError([parameterIssue('clientHashKey', 'clientHashKey must not be sent in the query string (URLs are logged): send it in the X-Client-Hash-Key header')]);
    }
    await next();
  };
}
