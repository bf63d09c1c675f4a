import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { displayName, idParam, requireJsonBody, uuidParam, validate } from '../http/validate';
import { createApiToken, listApiTokens, revokeApiToken } from '../tokens/api-tokens';

const createSchema = z.strictObject({ name: displayName, permission: z.enum(['r', 'rw']) });

/** API-Tokens: minted per base with an Account-Token, listed without secrets, revoked at once. */
export function apiTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  const baseParam = validate('param', z.object({ uuid: uuidParam }));
  return new Hono<AppEnv>()
    .post('/api/v1/bases/:uuid/api-tokens', auth, baseParam, requireJsonBody, validate('json', createSchema), async (c) =>
      c.json(await createApiToken(deps, c.var.principal, c.req.valid('param').uuid, c.req.valid('json')), 201),
    )
    .get('/api/v1/bases/:uuid/api-tokens', auth, baseParam, async (c) =>
      c.json({ api_tokens: await listApiTokens(deps, c.var.principal, c.req.valid('param').uuid) }),
    )
    .delete('/api/v1/api-tokens/:id', auth, validate('param', z.object({ id: idParam })), async (c) => {
      await revokeApiToken(deps, c.var.principal, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
