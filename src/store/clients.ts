// Clients as an operator manages them: created with a generated key, changed, key rotated; never deleted (messages point at them).
// The key is stored only as its SHA-256; a JWT secret only sealed with SECRETS_KEY (core/secrets.ts).
import type { Knex } from 'knex';
import { isSealed, keyHash, openSecret, sealSecret } from '../core/secrets.js';

export type ClientRow = {
  id: number;
  key_hash: string;
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
  files_folder: string | null;
  /** The return address on the client's letters (lines separated by newlines). */
  postal_address: string | null;
  created_at: Date;
  updated_at: Date;
  key_rotated_at: Date | null;
};
/** The columns an operator sets; the key is only ever generated. */
export type ClientSettings = Partial<
  Pick<
    ClientRow,
    'name' | 'enabled' | 'default_from_address' | 'default_from_name' | 'max_attachments' | 'max_attachment_bytes' | 'rate_limit_per_second' | 'jwt_required' | 'jwt_algorithms' | 'jwt_secret' | 'jwt_public_key' | 'files_folder' | 'postal_address'
  >
>;

/** A client's folder under SOURCE_DIR and ARCHIVE_DIR: its own name, else one derived from its id (reserved for that). */
export const defaultFilesFolder = (id: number) => `client-${id}`;
export const filesFolderOf = (r: { id: number; files_folder: string | null }) => r.files_folder ?? defaultFilesFolder(r.id);

/** The folder name is another client's already (the unique index on files_folder). */
export class FolderTaken extends Error {}

const fromDb = (r: ClientRow | undefined): ClientRow | undefined =>
  r && { ...r, max_attachment_bytes: r.max_attachment_bytes === null ? null : Number(r.max_attachment_bytes) };

/** `changed` is told after every write, so cached reads of clients are dropped everywhere (lookup-cache.ts). */
export function createClientStore(knex: Knex, changed: () => Promise<void> = async () => undefined, secretsKey?: Buffer) {
  const told = async <T>(v: T) => {
    await changed();
    return v;
  };
  // A secret is sealed here, at the one place that writes it; the admin API refuses one before, without a key.
  const sealed = (s: ClientSettings): ClientSettings => {
    if (!s.jwt_secret) return s;
    if (!secretsKey) throw new Error('a JWT secret cannot be stored without SECRETS_KEY');
    return { ...s, jwt_secret: sealSecret(secretsKey, s.jwt_secret) };
  };
  const write = async (q: Promise<ClientRow[]>) => {
    try {
      return fromDb((await q)[0]);
    } catch (e) {
      if ((e as { code?: string; constraint?: string }).code === '23505' && /files_folder/.test(String((e as { constraint?: string }).constraint ?? (e as Error).message))) throw new FolderTaken();
      throw e;
    }
  };
  return {
    /** Whether a JWT secret can be stored (SECRETS_KEY is set). */
    sealsSecrets: secretsKey !== undefined,
    async create(key: string, s: ClientSettings & Pick<ClientRow, 'name' | 'default_from_address'>): Promise<ClientRow> {
      return told((await write(knex('clients').insert({ ...sealed(s), key_hash: keyHash(key) }).returning('*')))!);
    },
    async list(): Promise<ClientRow[]> {
      return (await knex('clients').orderBy('id')).map((r) => fromDb(r)!);
    },
    async get(id: number): Promise<ClientRow | undefined> {
      return fromDb(await knex('clients').where({ id }).first());
    },
    async update(id: number, s: ClientSettings): Promise<ClientRow | undefined> {
      return told(await write(knex('clients').where({ id }).update({ ...sealed(s), updated_at: knex.fn.now() }).returning('*')));
    },
    /** The new key replaces the old one in the same statement: the old key stops working at once. */
    async rotateKey(id: number, key: string): Promise<ClientRow | undefined> {
      const [row] = await knex('clients').where({ id }).update({ key_hash: keyHash(key), key_rotated_at: knex.fn.now(), updated_at: knex.fn.now() }).returning('*');
      return told(fromDb(row));
    },
  };
}
export type ClientStore = ReturnType<typeof createClientStore>;

/** Why a start must stop, naming SECRETS_KEY and the clients (never a secret). */
export class SecretsKeyNeeded extends Error {}

/**
 * At start: JWT secrets still in clear (from before migration 006, or written around the API) are sealed with
 * SECRETS_KEY. Without the key, or with one that opens no stored secret, the start stops: the gateway
 * would otherwise keep a secret in clear, or fail every HS* token without saying why.
 */
export async function sealStoredSecrets(knex: Knex, secretsKey: Buffer | undefined): Promise<number> {
  const rows: { id: number; jwt_secret: string }[] = await knex('clients').whereNotNull('jwt_secret').orderBy('id').select('id', 'jwt_secret');
  const clear = rows.filter((r) => !isSealed(r.jwt_secret));
  const ids = (list: { id: number }[]) => list.map((r) => r.id).join(', ');
  if (!secretsKey) {
    if (clear.length) throw new SecretsKeyNeeded(`SECRETS_KEY must be set: the JWT secrets of clients ${ids(clear)} are stored in clear and must be encrypted (or removed)`);
    if (rows.length) throw new SecretsKeyNeeded(`SECRETS_KEY must be set: the JWT secrets of clients ${ids(rows)} are encrypted and cannot be used without it`);
    return 0;
  }
  const unopened = rows.filter((r) => {
    if (!isSealed(r.jwt_secret)) return false;
    try {
      openSecret(secretsKey, r.jwt_secret);
      return false;
    } catch {
      return true;
    }
  });
  if (unopened.length) throw new SecretsKeyNeeded(`SECRETS_KEY does not open the JWT secrets of clients ${ids(unopened)}: it is not the key they were encrypted with`);
  for (const r of clear) {
    // Only a value still in clear is replaced: a second gateway starting at the same time seals nothing twice.
    await knex('clients').where({ id: r.id, jwt_secret: r.jwt_secret }).update({ jwt_secret: sealSecret(secretsKey, r.jwt_secret) });
  }
  return clear.length;
}
