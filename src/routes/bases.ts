import { Hono } from 'hono';
import { z } from 'zod';
import { createBase, listBases, listMembers, listWorkspaces, memberBase, removeMember, setMember } from '../bases/bases';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { baseName, requireJsonBody, uuidParam, validate } from '../http/validate';

const baseParam = z.object({ uuid: uuidParam });
const memberParam = z.object({ uuid: uuidParam, user_id: z.uuid('is not a user id') });

/** Workspaces, bases and base membership (who holds r, rw or admin on a base). */
export function baseRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use('/api/v1/workspaces', requireAccount(deps))
    .use('/api/v1/bases', requireAccount(deps))
    .use('/api/v1/bases/*', requireAccount(deps))
    .get('/api/v1/workspaces', async (c) => c.json({ workspaces: await listWorkspaces(deps, c.var.principal) }))
    .post(
      '/api/v1/bases',
      requireJsonBody,
      validate('json', z.strictObject({ name: baseName, workspace_id: z.uuid('is not a workspace id').optional() })),
      async (c) => c.json(await createBase(deps, c.var.principal, c.req.valid('json')), 201),
    )
    .get('/api/v1/bases', async (c) => c.json({ bases: await listBases(deps, c.var.principal) }))
    .get('/api/v1/bases/:uuid', validate('param', baseParam), async (c) => {
      const { base, permission } = await memberBase(deps, c.var.principal, c.req.valid('param').uuid);
      return c.json({ uuid: base.id, name: base.name, workspace_id: base.workspace_id, permission });
    })
    .get('/api/v1/bases/:uuid/members', validate('param', baseParam), async (c) =>
      c.json({ members: await listMembers(deps, c.var.principal, c.req.valid('param').uuid) }),
    )
    .put(
      '/api/v1/bases/:uuid/members/:user_id',
      validate('param', memberParam),
      requireJsonBody,
      validate('json', z.strictObject({ permission: z.enum(['r', 'rw', 'admin']) })),
      async (c) => {
        const { uuid, user_id } = c.req.valid('param');
        return c.json(await setMember(deps, c.var.principal, uuid, user_id, c.req.valid('json').permission));
      },
    )
    .delete('/api/v1/bases/:uuid/members/:user_id', validate('param', memberParam), async (c) => {
      const { uuid, user_id } = c.req.valid('param');
      await removeMember(deps, c.var.principal, uuid, user_id);
      return c.body(null, 204);
    });
}
