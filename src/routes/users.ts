import { Hono } from 'hono';
import { z } from 'zod';
import {
  createTeam,
  createUser,
  getUser,
  listTeams,
  listUsers,
  revokeUserTokens,
  ROLES,
  updateUser,
} from '../accounts/users';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { displayName, emailAddress, requireJsonBody, validate } from '../http/validate';
import { describe, json } from '../openapi/describe';
import { listOf, teamSchema, userSchema } from '../openapi/schemas';

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

const tokensRevokedSchema = z
  .strictObject({ account_tokens: z.number().int(), api_tokens: z.number().int() })
  .meta({ id: 'UserTokensRevoked' });

/** Users and teams, for system admins (everything) and team admins (their own team). */
export function userRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use('/api/v1/users/*', requireAccount(deps))
    .use('/api/v1/users', requireAccount(deps))
    .use('/api/v1/teams', requireAccount(deps))
    .post(
      '/api/v1/users',
      describe({
        summary: 'Create a user (system admins; team admins in their team)',
        tags: ['Users and teams'],
        auth: 'account',
        body: true,
        errors: [403, 409],
        responses: { 201: json('The new user', userSchema) },
      }),
      requireJsonBody,
      validate('json', createUserSchema),
      async (c) => c.json(await createUser(deps, c.var.principal, c.req.valid('json')), 201),
    )
    .get(
      '/api/v1/users',
      describe({
        summary: 'List users (admins)',
        tags: ['Users and teams'],
        auth: 'account',
        errors: [403],
        responses: { 200: json('The users you manage', listOf('users', userSchema)) },
      }),
      async (c) => c.json({ users: await listUsers(deps, c.var.principal) }),
    )
    .get(
      '/api/v1/users/:id',
      describe({
        summary: 'One user (admins)',
        tags: ['Users and teams'],
        auth: 'account',
        errors: [403, 404],
        responses: { 200: json('The user', userSchema) },
      }),
      validate('param', userIdParam),
      async (c) => c.json(await getUser(deps, c.var.principal, c.req.valid('param').id)),
    )
    .patch(
      '/api/v1/users/:id',
      describe({
        summary: 'Change a user (admins); deactivating stops all their tokens at once',
        tags: ['Users and teams'],
        auth: 'account',
        body: true,
        errors: [403, 404, 409],
        responses: { 200: json('The user', userSchema) },
      }),
      validate('param', userIdParam),
      requireJsonBody,
      validate('json', updateUserSchema),
      async (c) =>
        c.json(await updateUser(deps, c.var.principal, c.req.valid('param').id, c.req.valid('json'))),
    )
    .post(
      '/api/v1/users/:id/revoke-tokens',
      describe({
        summary: 'Revoke every Account-Token and API-Token of a user (admins)',
        description:
          'System admins for anyone, team admins for users of their own team. Your own current token is included when you target yourself.',
        tags: ['Users and teams'],
        auth: 'account',
        errors: [403, 404],
        responses: {
          200: json('How many live tokens were revoked', tokensRevokedSchema, {
            account_tokens: 2,
            api_tokens: 5,
          }),
        },
      }),
      validate('param', userIdParam),
      async (c) => c.json(await revokeUserTokens(deps, c.var.principal, c.req.valid('param').id)),
    )
    .post(
      '/api/v1/teams',
      describe({
        summary: 'Create a team (system admins)',
        tags: ['Users and teams'],
        auth: 'account',
        body: true,
        errors: [403, 409],
        responses: { 201: json('The new team', teamSchema) },
      }),
      requireJsonBody,
      validate('json', z.strictObject({ name: displayName })),
      async (c) => c.json(await createTeam(deps, c.var.principal, c.req.valid('json').name), 201),
    )
    .get(
      '/api/v1/teams',
      describe({
        summary: 'List teams (admins)',
        tags: ['Users and teams'],
        auth: 'account',
        errors: [403],
        responses: { 200: json('The teams', listOf('teams', teamSchema)) },
      }),
      async (c) => c.json({ teams: await listTeams(deps, c.var.principal) }),
    );
}
