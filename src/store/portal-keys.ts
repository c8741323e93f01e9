// Portal keys (SPEC §5): per client, stored only as the key's SHA-256; a revoked key is a deleted row, dead at once.
import type { Knex } from 'knex';

export type PortalKeyRow = { id: number; clientId: number; createdAt: Date; lastUsedAt: Date | null };

const toRow = (r: any): PortalKeyRow => ({ id: Number(r.id), clientId: Number(r.client_id), createdAt: r.created_at, lastUsedAt: r.last_used_at ?? null });

export function createPortalKeyStore(knex: Knex) {
  return {
    /** A new key of an existing client; undefined when there is no such client. */
    async create(clientId: number, keyHash: string): Promise<PortalKeyRow | undefined> {
      const { rows } = await knex.raw('insert into portal_keys (client_id, key_hash) select id, ? from clients where id = ? returning id, client_id, created_at, last_used_at', [keyHash, clientId]);
      return rows[0] ? toRow(rows[0]) : undefined;
    },
    async clientExists(clientId: number): Promise<boolean> {
      return (await knex('clients').where({ id: clientId }).first('id')) !== undefined;
    },
    async list(clientId: number): Promise<PortalKeyRow[]> {
      return (await knex('portal_keys').where({ client_id: clientId }).orderBy('id').select('id', 'client_id', 'created_at', 'last_used_at')).map(toRow);
    },
    async revoke(clientId: number, keyId: number): Promise<boolean> {
      return (await knex('portal_keys').where({ id: keyId, client_id: clientId }).delete()) > 0;
    },
    /** The enabled client a key belongs to: read at every request, so a revoked key or a disabled client is refused at once. */
    async clientOf(keyHash: string): Promise<number | undefined> {
      const r = await knex('portal_keys as k').join('clients as c', 'c.id', 'k.client_id').where({ 'k.key_hash': keyHash, 'c.enabled': true }).first('k.id', 'k.client_id', 'k.last_used_at');
      if (!r) return undefined;
      // At most one write a minute per key: the time is a hint for operators, not a log of every fetch.
      if (!r.last_used_at || Date.now() - new Date(r.last_used_at).getTime() > 60_000) await knex('portal_keys').where({ id: r.id }).update({ last_used_at: knex.fn.now() });
      return Number(r.client_id);
    },
  };
}
export type PortalKeyStore = ReturnType<typeof createPortalKeyStore>;
