// Client management for operators (JSON:API), behind ADMIN_TOKEN: create with a generated key, change, rotate the key, disable.
import { noNul } from '../core/send-request.js';
import { createPublicKey } from 'node:crypto';
import { generateKey as generateHashKey, tokenMatches } from '../core/secrets.js';
import type { Next } from 'koa';
import { z } from 'zod';
import { JWT_ALGORITHMS } from '../core/auth.js';
import { AuthError, NotFound, ValidationError, type Issue } from '../core/errors.js';
import { fieldName } from '../core/validate.js';
import { filesFolderOf, FolderTaken, type ClientRow, type ClientSettings, type ClientStore } from '../store/clients.js';
import { readAttributes } from './body.js';
import type { ApiContext, ApiRouter } from './context.js';
import { JSONAPI } from '../adapters/forms/jsonapi.js';

export const ADMIN_BASE = '/hammy/admin/v1';
export const CLIENTS = `${ADMIN_BASE}/clients`;


const pem = z.string().refine((v) => {
  try {
    createPublicKey(v);
    return true;
  } catch {
    return false;
  }
}, 'must be a PEM public key');

const Settings = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(200).refine(noNul, 'must not contain a NUL character'),
  enabled: z.boolean(),
  defaultFromAddress: z.email('must be an e-mail address').max(100),
  defaultFromName: z.string().max(100).refine(noNul, 'must not contain a NUL character').nullable(),
  // The return address in the sender block of POST letters, lines separated by newlines (or ';').
  postalAddress: z.string().trim().min(1, 'must not be empty (null removes it)').max(500).refine(noNul, 'must not contain a NUL character').nullable(),
  // The columns are PostgreSQL integer / bigint: larger values are field errors, not internal ones.
  maxAttachments: z.number().int().min(0).max(2_147_483_647).nullable(),
  maxAttachmentBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable(),
  /** Requests per second (issue 15); null: unlimited. */
  rateLimitPerSecond: z.number().int().min(1).max(1_000_000).nullable(),
  jwtRequired: z.boolean(),
  jwtAlgorithms: z.array(z.enum(JWT_ALGORITHMS as [string, ...string[]], `must list algorithms of ${JWT_ALGORITHMS.join(', ')}`)),
  jwtSecret: z.string().min(32, 'must be at least 32 characters (256 bits for HS256)').nullable(),
  jwtPublicKey: pem.nullable(),
  // One path segment under SOURCE_DIR and ARCHIVE_DIR; null: back to the default `client-<id>`.
  filesFolder: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"')
    .refine((v) => v !== '.' && v !== '..', 'must not be "." or ".."')
    .nullable(),
});
type SettingsInput = z.infer<typeof Settings>;

function parseSettings(attrs: Record<string, unknown>, required: (keyof SettingsInput)[]): Partial<SettingsInput> {
  const parsed = Settings.partial().safeParse(attrs);
  const issues: Issue[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const field = fieldName(i.path) || String((i as { keys?: string[] }).keys?.[0] ?? '/');
        return { code: 1, field, text: i.code === 'unrecognized_keys' ? `${field} is not a client setting` : `${field} ${i.message}` };
      });
  for (const k of required) if (attrs[k] === undefined) issues.push({ code: 1, field: k, text: `${k} is required` });
  if (issues.length) throw new ValidationError(issues);
  return parsed.data!;
}

/** Each setting's column; the API's names are SPEC-style camelCase, the table's snake_case. */
const COLUMN_OF = {
  name: 'name',
  enabled: 'enabled',
  defaultFromAddress: 'default_from_address',
  defaultFromName: 'default_from_name',
  postalAddress: 'postal_address',
  maxAttachments: 'max_attachments',
  maxAttachmentBytes: 'max_attachment_bytes',
  rateLimitPerSecond: 'rate_limit_per_second',
  jwtRequired: 'jwt_required',
  jwtSecret: 'jwt_secret',
  jwtPublicKey: 'jwt_public_key',
  filesFolder: 'files_folder',
} as const satisfies Record<Exclude<keyof SettingsInput, 'jwtAlgorithms'>, keyof ClientSettings>;

function toColumns(settings: Partial<SettingsInput>): ClientSettings {
  const columns: Record<string, unknown> = {};
  for (const [setting, column] of Object.entries(COLUMN_OF)) {
    const v = settings[setting as keyof typeof COLUMN_OF];
    if (v !== undefined) columns[column] = v;
  }
  // Stored as a comma list, as auth.ts parseAlgorithms reads it.
  if (settings.jwtAlgorithms !== undefined) columns.jwt_algorithms = settings.jwtAlgorithms.join(',') || null;
  return columns as ClientSettings;
}

/**
 * Settings that depend on the gateway or on the client's id: a JWT secret is stored only sealed (SECRETS_KEY), and
 * `client-<n>` is every client's default folder, so only client n may name it (it then means the default).
 */
function storageIssues(columns: ClientSettings, clients: ClientStore, id?: number): Issue[] {
  const issues: Issue[] = [];
  if (columns.jwt_secret && !clients.sealsSecrets) {
    issues.push({ code: 1, field: 'jwtSecret', text: 'jwtSecret cannot be stored: SECRETS_KEY must be set on the gateway to keep it encrypted, or use jwtPublicKey with an RS, PS, ES or EdDSA algorithm' });
  }
  const reserved = /^client-(\d+)$/.exec(columns.files_folder ?? '');
  if (reserved && reserved[1] === String(id)) columns.files_folder = null;
  else if (reserved) issues.push({ code: 1, field: 'filesFolder', text: `filesFolder ${columns.files_folder} is reserved: client-<id> is the default folder of client <id>` });
  return issues;
}

const folderTaken = (columns: ClientSettings) => new ValidationError([{ code: 1, field: 'filesFolder', text: `filesFolder ${columns.files_folder} is already another client's folder` }]);

/** A client that requires a JWT must be able to check one: algorithms, and the key of each algorithm's family. */
function jwtIssues(columns: ClientSettings): Issue[] {
  const algs = (columns.jwt_algorithms ?? '').split(',').filter(Boolean);
  const issues: Issue[] = [];
  if (algs.some((a) => a.startsWith('HS')) && !columns.jwt_secret) issues.push({ code: 1, field: 'jwtSecret', text: 'jwtSecret is required for HS algorithms' });
  if (algs.some((a) => !a.startsWith('HS')) && !columns.jwt_public_key) issues.push({ code: 1, field: 'jwtPublicKey', text: 'jwtPublicKey is required for RS, PS, ES and EdDSA algorithms' });
  if (columns.jwt_required && algs.length === 0) issues.push({ code: 1, field: 'jwtAlgorithms', text: 'jwtAlgorithms is required when jwtRequired is true' });
  return issues;
}

function clientResource(row: ClientRow & { key?: string }, withKey = false) {
  return {
    type: 'clients',
    id: String(row.id),
    attributes: {
      name: row.name,
      enabled: row.enabled,
      defaultFromAddress: row.default_from_address,
      defaultFromName: row.default_from_name,
      postalAddress: row.postal_address,
      maxAttachments: row.max_attachments,
      maxAttachmentBytes: row.max_attachment_bytes,
      rateLimitPerSecond: row.rate_limit_per_second,
      jwtRequired: row.jwt_required,
      jwtAlgorithms: (row.jwt_algorithms ?? '').split(',').filter(Boolean),
      // A secret is never shown again; the public key is public.
      jwtSecretSet: row.jwt_secret !== null,
      jwtPublicKey: row.jwt_public_key,
      filesFolder: filesFolderOf(row),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      keyRotatedAt: row.key_rotated_at,
      // The key is shown only in the answer that made it (create, rotate): store it then.
      ...(withKey && row.key ? { hashKey: row.key } : {}),
    },
    links: { self: `${CLIENTS}/${row.id}` },
  };
}

export const idOf = (raw: string | undefined, what = 'client', field = 'id') => {
  const id = raw !== undefined && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  if (id < 1) throw new NotFound(`${what} ${raw} not found`, field);
  return id;
};

/** The one door of every admin route (clients, portal keys): Authorization: Bearer <ADMIN_TOKEN>, compared in constant time. */
export function adminGuard(adminToken: string) {
  return async (ctx: ApiContext, next: Next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization') ?? '');
    if (!m || !tokenMatches(m[1]!, adminToken)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="hammy-admin"');
      throw new AuthError('the admin API needs Authorization: Bearer <ADMIN_TOKEN>', 'Authorization');
    }
    await next();
  };
}

/** Registered only when ADMIN_TOKEN is set: without it the admin API does not exist (404), so there is nothing to guess. */
export function adminRoutes(router: ApiRouter, adminToken: string, clients: ClientStore) {
  const guard = adminGuard(adminToken);
  const found = (row: ClientRow | undefined, id: number) => {
    if (!row) throw new NotFound(`client ${id} not found`, 'id');
    return row;
  };
  const answer = (ctx: ApiContext, row: ClientRow & { key?: string }, withKey = false) => {
    ctx.type = JSONAPI;
    ctx.body = { data: clientResource(row, withKey) };
  };

  router.post(CLIENTS, guard, async (ctx) => {
    const columns = toColumns(parseSettings(await readAttributes(ctx, ['clients']), ['name', 'defaultFromAddress']));
    const issues = [...jwtIssues(columns), ...storageIssues(columns, clients)];
    if (issues.length) throw new ValidationError(issues);
    // The key exists in clear only in this answer: the store keeps its hash.
    const key = generateHashKey();
    const row = await clients.create(key, columns as Parameters<ClientStore['create']>[1]).catch((e) => {
      throw e instanceof FolderTaken ? folderTaken(columns) : e;
    });
    ctx.status = 201;
    ctx.set('Location', `${CLIENTS}/${row.id}`);
    answer(ctx, { ...row, key }, true);
  });

  router.get(CLIENTS, guard, async (ctx) => {
    ctx.type = JSONAPI;
    ctx.body = { data: (await clients.list()).map((r) => clientResource(r)) };
  });

  router.get(`${CLIENTS}/:id`, guard, async (ctx) => {
    const id = idOf(ctx.params.id);
    answer(ctx, found(await clients.get(id), id));
  });

  // Settings change; `enabled: false` disables the client: its every request then answers code 2.
  router.patch(`${CLIENTS}/:id`, guard, async (ctx) => {
    const id = idOf(ctx.params.id);
    const columns = toColumns(parseSettings(await readAttributes(ctx, ['clients']), []));
    const current = found(await clients.get(id), id);
    const issues = [...jwtIssues({ ...current, ...columns }), ...storageIssues(columns, clients, id)];
    if (issues.length) throw new ValidationError(issues);
    const row = await clients.update(id, columns).catch((e) => {
      throw e instanceof FolderTaken ? folderTaken(columns) : e;
    });
    answer(ctx, found(row, id));
  });

  // A new key at once; the old one stops working in the same statement (no grace period: a leaked key is dead now).
  router.post(`${CLIENTS}/:id/key`, guard, async (ctx) => {
    const id = idOf(ctx.params.id);
    const key = generateHashKey();
    answer(ctx, { ...found(await clients.rotateKey(id, key), id), key }, true);
  });
}
