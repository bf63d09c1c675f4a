import { Hono } from 'hono';
import { z } from 'zod';
import { createServiceAccount, listServiceAccounts } from '../accounts/service-accounts';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { idParam, requireJsonBody, uuidParam, validate } from '../http/validate';
import { bulkRevokeApiTokens, regenerateApiToken, revokeApiToken, updateApiToken } from '../tokens/api-token-lifecycle';
import { apiTokenById, createApiToken, listApiTokens, listBaseApiTokens, manageableApiToken } from '../tokens/api-tokens';
import { explainApiToken } from '../tokens/explain';
import type { ScopeAction } from '../verify/scopes';
import {
  bulkDeleteSchema,
  createBaseTokenSchema,
  createTokenSchema,
  expiresAtFrom,
  explainSchema,
  listFiltersSchema,
  regenerateSchema,
  serviceAccountSchema,
  updateTokenSchema,
} from './api-token-schemas';

/** API-Tokens: minted with an Account-Token, listed without secrets, managed through their whole life. */
export function apiTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  const tokenId = validate('param', z.object({ id: idParam }));
  const now = () => epochSeconds(deps.clock);
  return new Hono<AppEnv>()
    .use('/api/v1/api-tokens', auth)
    .use('/api/v1/api-tokens/*', auth)
    .use('/api/v1/service-accounts', auth)
    .use('/api/v1/service-accounts/*', auth)
    .post('/api/v1/bases/:uuid/api-tokens', auth, validate('param', z.object({ uuid: uuidParam })), requireJsonBody, validate('json', createBaseTokenSchema), async (c) => {
      const body = c.req.valid('json');
      const resources = { type: 'base' as const, base_uuid: c.req.valid('param').uuid };
      const created = await createApiToken(deps, c.var.principal, { ...body, resources, expiresAt: expiresAtFrom(body, now()) ?? null });
      return c.json(created, 201);
    })
    .get('/api/v1/bases/:uuid/api-tokens', auth, validate('param', z.object({ uuid: uuidParam })), async (c) =>
      c.json({ api_tokens: await listBaseApiTokens(deps, c.var.principal, c.req.valid('param').uuid) }),
    )
    .post('/api/v1/api-tokens', requireJsonBody, validate('json', createTokenSchema), async (c) => {
      const body = c.req.valid('json');
      return c.json(await createApiToken(deps, c.var.principal, { ...body, expiresAt: expiresAtFrom(body, now()) ?? null }), 201);
    })
    .get('/api/v1/api-tokens', validate('query', listFiltersSchema), async (c) =>
      c.json({ api_tokens: await listApiTokens(deps, c.var.principal, c.req.valid('query')) }),
    )
    .post('/api/v1/api-tokens/bulk-delete', requireJsonBody, validate('json', bulkDeleteSchema), async (c) =>
      c.json({ deleted: await bulkRevokeApiTokens(deps, c.var.principal, c.req.valid('json').ids) }),
    )
    .get('/api/v1/api-tokens/:id', tokenId, async (c) => {
      await manageableApiToken(deps, c.var.principal, c.req.valid('param').id);
      return c.json(await apiTokenById(deps, c.req.valid('param').id));
    })
    .patch('/api/v1/api-tokens/:id', tokenId, requireJsonBody, validate('json', updateTokenSchema), async (c) => {
      const body = c.req.valid('json');
      return c.json(await updateApiToken(deps, c.var.principal, c.req.valid('param').id, { ...body, expiresAt: expiresAtFrom(body, now()) }));
    })
    .delete('/api/v1/api-tokens/:id', tokenId, async (c) => {
      await revokeApiToken(deps, c.var.principal, c.req.valid('param').id);
      return c.body(null, 204);
    })
    .post('/api/v1/api-tokens/:id/regenerate', tokenId, requireJsonBody, validate('json', regenerateSchema), async (c) =>
      c.json(await regenerateApiToken(deps, c.var.principal, c.req.valid('param').id, c.req.valid('json').grace_seconds)),
    )
    .post('/api/v1/api-tokens/:id/explain', tokenId, requireJsonBody, validate('json', explainSchema), async (c) => {
      const { base_uuid, permission, action, table } = c.req.valid('json');
      return c.json(await explainApiToken(deps, c.var.principal, c.req.valid('param').id, { baseUuid: base_uuid, permission, action: action as ScopeAction | undefined, table }));
    })
    .post('/api/v1/service-accounts', requireJsonBody, validate('json', serviceAccountSchema), async (c) =>
      c.json(await createServiceAccount(deps, c.var.principal, c.req.valid('json').name), 201),
    )
    .get('/api/v1/service-accounts', async (c) => c.json({ service_accounts: await listServiceAccounts(deps, c.var.principal) }))
    .post('/api/v1/service-accounts/:id/api-tokens', validate('param', z.object({ id: z.uuid('is not a user id') })), requireJsonBody, validate('json', createTokenSchema), async (c) => {
      const body = c.req.valid('json');
      const created = await createApiToken(deps, c.var.principal, { ...body, expiresAt: expiresAtFrom(body, now()) ?? null }, c.req.valid('param').id);
      return c.json(created, 201);
    });
}
