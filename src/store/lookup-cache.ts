// Client and template reads reused across requests: every accept needs both, and they change rarely.
// A change made through any gateway's API clears every gateway's cache: in this process directly, in the
// others by a PostgreSQL NOTIFY that each one LISTENs for. The time limit is the backstop for changes made
// around the API (plain SQL) and for a listener that is not connected: then nothing is reused at all.
import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import type { ClientRecord, SendStore } from '../core/ports.js';
import { keyHash } from '../core/secrets.js';
import type { TemplateVersion } from '../core/render.js';

const CHANNEL = 'hammy_lookups';
const MAX_ENTRIES = 10_000;

type Entry<V> = { at: number; value: V };

export type LookupCache = {
  store: SendStore;
  /** Forgets everything here and tells the other gateways on the same database to do the same. */
  changed(): Promise<void>;
  /** For /health: whether reads are reused now, and why not when they are not. */
  state(): { reused: boolean; ttlMs: number; listener: 'connected' | 'not connected' | 'not needed' };
  close(): Promise<void>;
};

export function cachedLookups(store: SendStore, o: { knex: Knex; ttlMs: number; databaseUrl?: string; schema?: string; log: Logger }): LookupCache {
  const clients = new Map<string, Entry<ClientRecord>>();
  const templates = new Map<string, Entry<TemplateVersion | undefined>>();
  // A read that started before a change must not put its (old) answer into the cache after it.
  let generation = 0;
  // Without a database listener, other gateways' changes would go unseen: reuse only when it listens.
  let listening = !o.databaseUrl;
  let closed = false;
  const scope = o.schema ?? '';

  const clear = () => {
    generation++;
    clients.clear();
    templates.clear();
  };
  const fresh = <V>(e: Entry<V> | undefined) => (e && listening && Date.now() - e.at < o.ttlMs ? e : undefined);
  const put = <V>(m: Map<string, Entry<V>>, key: string, value: V, gen: number) => {
    if (gen !== generation || !listening || o.ttlMs === 0) return;
    if (m.size >= MAX_ENTRIES) m.delete(m.keys().next().value!);
    m.set(key, { at: Date.now(), value });
  };

  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  async function listen() {
    if (closed || !o.databaseUrl || o.ttlMs === 0) return;
    // Named, so an operator (or a test) can find this gateway's listener in pg_stat_activity.
    const c = new pg.Client({ connectionString: o.databaseUrl, application_name: `hammy-lookups ${scope || 'public'} pid ${process.pid}` });
    const lost = (err?: Error) => {
      if (listener !== c) return;
      listener = undefined;
      listening = false;
      clear();
      c.end().catch(() => undefined);
      if (!closed) {
        o.log.warn({ err: err?.message }, 'lookup cache listener lost; client and template reads are not reused until it is back');
        retry = setTimeout(listen, 2000);
        retry.unref();
      }
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (n) => {
      if (n.payload === scope) clear();
    });
    try {
      listener = c;
      await c.connect();
      await c.query(`listen ${CHANNEL}`);
      clear(); // whatever changed while nobody listened
      listening = true;
    } catch (e) {
      lost(e as Error);
    }
  }
  void listen();

  return {
    store: {
      ...store,
      async findClient(key) {
        // Cached by the key's hash: no caller's key sits in this long-lived map.
        const hash = keyHash(key);
        const hit = fresh(clients.get(hash));
        if (hit) return hit.value;
        const gen = generation;
        const found = await store.findClient(key);
        // Unknown keys are not remembered: a new client works at once, and guessed keys cannot fill memory.
        if (found) put(clients, hash, found, gen);
        return found;
      },
      async findTemplate(clientId, messageType, version) {
        const key = `${clientId}\u0000${messageType}\u0000${version ?? ''}`;
        const hit = fresh(templates.get(key));
        if (hit) return hit.value;
        const gen = generation;
        const found = await store.findTemplate(clientId, messageType, version);
        put(templates, key, found, gen);
        return found;
      },
    },
    async changed() {
      clear();
      // The change itself is committed; if the others cannot be told, their time limit still ends the old reads.
      if (o.databaseUrl) await o.knex.raw('select pg_notify(?, ?)', [CHANNEL, scope]).catch((e: Error) => o.log.warn({ err: e.message }, 'other gateways could not be told of a client or template change'));
    },
    state() {
      const listener = !o.databaseUrl || o.ttlMs === 0 ? 'not needed' : listening ? 'connected' : 'not connected';
      return { reused: listening && o.ttlMs > 0, ttlMs: o.ttlMs, listener };
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = listener;
      listener = undefined;
      listening = false;
      await c?.end().catch(() => undefined);
    },
  };
}
