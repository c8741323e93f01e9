// Portal keys for operators (admin API, JSON:API, behind ADMIN_TOKEN): the remote-content platform of a client sends
// one in PORTAL_KEY_HEADER. A key is shown only in the answer that made it; stored is its SHA-256.
import { generateKey, keyHash } from '../core/secrets.js';
import { NotFound } from '../core/errors.js';
import type { PortalKeyRow, PortalKeyStore } from '../store/portal-keys.js';
import { adminGuard, CLIENTS, idOf } from './admin.js';
import type { ApiRouter } from './context.js';
import { JSONAPI } from '../adapters/forms/jsonapi.js';

const keysPath = (clientId: number) => `${CLIENTS}/${clientId}/portal-keys`;

function keyResource(row: PortalKeyRow, key?: string) {
  return {
    type: 'portalKeys',
    id: String(row.id),
    attributes: { createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, ...(key ? { key } : {}) },
    relationships: { client: { data: { type: 'clients', id: String(row.clientId) }, links: { related: `${CLIENTS}/${row.clientId}` } } },
    links: { self: `${keysPath(row.clientId)}/${row.id}` },
  };
}

export function portalKeyRoutes(router: ApiRouter, adminToken: string, keys: PortalKeyStore) {
  const guard = adminGuard(adminToken);
  const client = async (raw: string | undefined) => {
    const id = idOf(raw);
    if (!(await keys.clientExists(id))) throw new NotFound(`client ${id} not found`, 'id');
    return id;
  };

  router.post(`${CLIENTS}/:id/portal-keys`, guard, async (ctx) => {
    const id = idOf(ctx.params.id);
    const key = generateKey();
    const row = await keys.create(id, keyHash(key));
    if (!row) throw new NotFound(`client ${id} not found`, 'id');
    ctx.status = 201;
    ctx.set('Location', `${keysPath(id)}/${row.id}`);
    ctx.type = JSONAPI;
    ctx.body = { data: keyResource(row, key) };
  });

  router.get(`${CLIENTS}/:id/portal-keys`, guard, async (ctx) => {
    const id = await client(ctx.params.id);
    ctx.type = JSONAPI;
    ctx.body = { data: (await keys.list(id)).map((r) => keyResource(r)) };
  });

  // Revoked at once: the next portal request with the key is 401 (keys are read at every request, never cached).
  router.delete(`${CLIENTS}/:id/portal-keys/:keyId`, guard, async (ctx) => {
    const id = await client(ctx.params.id);
    const keyId = idOf(ctx.params.keyId, 'portal key', 'keyId');
    if (!(await keys.revoke(id, keyId))) throw new NotFound(`portal key ${keyId} of client ${id} not found`, 'keyId');
    ctx.status = 204;
  });
}
