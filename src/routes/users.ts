import { Hono } from 'hono';
import { z } from 'zod';
import { createTeam, createUser, getUser, listTeams, listUsers, ROLES, updateUser } from '../accounts/users';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { displayName, emailAddress, requireJsonBody, validate } from '../http/validate';

const teamId = z.uuid('must be a team id').nullable();

const createUserSchema = z.strictObject({
  email: emailAddress,
  password: z.string(),
  role: z.enum(ROLES),
  name: displayName.optional(),
  team_id: teamId.optional(),
});

const updateUserSchema = z
  .strictObject({
    name: displayName,
    role: z.enum(ROLES),
    team_id: teamId,
    is_active: z.boolean(),
    password: z.string(),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'send at least one field to change');

const userIdParam = z.object({ id: z.uuid('is not a user id') });

/** Users and teams, for system admins (everything) and team admins (their own team). */
export function userRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use('/api/v1/users/*', requireAccount(deps))
    .use('/api/v1/users', requireAccount(deps))
    .use('/api/v1/teams', requireAccount(deps))
    .post('/api/v1/users', requireJsonBody, validate('json', createUserSchema), async (c) =>
      c.json(await createUser(deps, c.var.principal, c.req.valid('json')), 201),
    )
    .get('/api/v1/users', async (c) => c.json({ users: await listUsers(deps, c.var.principal) }))
    .get('/api/v1/users/:id', validate('param', userIdParam), async (c) =>
      c.json(await getUser(deps, c.var.principal, c.req.valid('param').id)),
    )
    .patch('/api/v1/users/:id', validate('param', userIdParam), requireJsonBody, validate('json', updateUserSchema), async (c) =>
      c.json(await updateUser(deps, c.var.principal, c.req.valid('param').id, c.req.valid('json'))),
    )
    .post('/api/v1/teams', requireJsonBody, validate('json', z.strictObject({ name: displayName })), async (c) =>
      c.json(await createTeam(deps, c.var.principal, c.req.valid('json').name), 201),
    )
    .get('/api/v1/teams', async (c) => c.json({ teams: await listTeams(deps, c.var.principal) }));
}
