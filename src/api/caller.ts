// The calling client of the status, history and template APIs, authenticated as the REST send API does (SPEC §3).
import { verifyClient } from '../core/auth.js';
import type { ClientRecord, SendStore } from '../core/ports.js';

type Ctx = { get(header: string): string; query: Record<string, unknown> };

/** Hash key from `X-Client-Hash-Key` or `?clientHashKey=`; a client with JWT settings also needs its token. */
export function callerOf(store: SendStore): (ctx: Ctx) => Promise<ClientRecord> {
  return (ctx) => verifyClient(store, ctx.get('x-client-hash-key') || ctx.query.clientHashKey, ctx.get('authorization') || undefined);
}
