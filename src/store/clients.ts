// Clients as an operator manages them: created with a generated key, changed, key rotated; never deleted (messages point at them).
import type { Knex } from 'knex';

export type ClientRow = {
  id: number;
  hash_key: string;
  name: string;
  enabled: boolean;
  default_from_address: string;
  default_from_name: string | null;
  max_attachments: number | null;
  max_attachment_bytes: number | null;
  rate_limit_per_second: number | null;
  jwt_required: boolean;
  jwt_algorithms: string | null;
  jwt_secret: string | null;
  jwt_public_key: string | null;
  created_at: Date;
  updated_at: Date;
  key_rotated_at: Date | null;
};
/** The columns an operator sets; the key is only ever generated. */
export type ClientSettings = Partial<
  Pick<ClientRow, 'name' | 'enabled' | 'default_from_address' | 'default_from_name' | 'max_attachments' | 'max_attachment_bytes' | 'rate_limit_per_second' | 'jwt_required' | 'jwt_algorithms' | 'jwt_secret' | 'jwt_public_key'>
>;

const fromDb = (r: ClientRow | undefined): ClientRow | undefined =>
  r && { ...r, max_attachment_bytes: r.max_attachment_bytes === null ? null : Number(r.max_attachment_bytes) };

/** `changed` is told after every write, so cached reads of clients are dropped everywhere (lookup-cache.ts). */
export function createClientStore(knex: Knex, changed: () => Promise<void> = async () => undefined) {
  const told = async <T>(v: T) => {
    await changed();
    return v;
  };
  return {
    async create(hashKey: string, s: ClientSettings & Pick<ClientRow, 'name' | 'default_from_address'>): Promise<ClientRow> {
      const [row] = await knex('clients').insert({ ...s, hash_key: hashKey }).returning('*');
      return told(fromDb(row)!);
    },
    async list(): Promise<ClientRow[]> {
      return (await knex('clients').orderBy('id')).map((r) => fromDb(r)!);
    },
    async get(id: number): Promise<ClientRow | undefined> {
      return fromDb(await knex('clients').where({ id }).first());
    },
    async update(id: number, s: ClientSettings): Promise<ClientRow | undefined> {
      const [row] = await knex('clients').where({ id }).update({ ...s, updated_at: knex.fn.now() }).returning('*');
      return told(fromDb(row));
    },
    /** The new key replaces the old one in the same statement: the old key stops working at once. */
    async rotateKey(id: number, hashKey: string): Promise<ClientRow | undefined> {
      const [row] = await knex('clients').where({ id }).update({ hash_key: hashKey, key_rotated_at: knex.fn.now(), updated_at: knex.fn.now() }).returning('*');
      return told(fromDb(row));
    },
  };
}
export type ClientStore = ReturnType<typeof createClientStore>;
