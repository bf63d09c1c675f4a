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
import { listOf, teamSchema, userSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { teamJson, userJson } from './serializers';

const teamId = z.uuid('must be a team id').nullable();

const createUserBody = z.strictObject({
  email: emailAddress,
  password: z.string(),
  role: z.enum(ROLES),
  name: displayName.optional(),
  team_id: teamId.optional(),
});

const updateUserBody = z
  .strictObject({
    name: displayName,
    role: z.enum(ROLES),
    team_id: teamId,
    is_active: z.boolean(),
    password: z.string(),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'send at least one field to change');

const createTeamBody = z.strictObject({ name: displayName });

const userParams = z.object({ id: z.uuid('is not a user id') });

const tokensRevokedSchema = z
  .strictObject({ account_tokens: z.number().int(), api_tokens: z.number().int() })
  .meta({ id: 'UserTokensRevoked' });

const tags: ['Users and teams'] = ['Users and teams'];

const createUserDoc = routeDoc({
  summary: 'Create a user (system admins; team admins in their team)',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 409, 429],
  responses: { 201: jsonResponse('The new user', userSchema) },
});

const listUsersDoc = routeDoc({
  summary: 'List users (admins)',
  tags,
  auth: 'account',
  errors: [403],
  responses: { 200: jsonResponse('The users you manage', listOf('users', userSchema)) },
});

const getUserDoc = routeDoc({
  summary: 'One user (admins)',
  tags,
  auth: 'account',
  errors: [403, 404],
  responses: { 200: jsonResponse('The user', userSchema) },
});

const updateUserDoc = routeDoc({
  summary: 'Change a user (admins); deactivating stops all their tokens at once',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404, 409],
  responses: { 200: jsonResponse('The user', userSchema) },
});

const revokeUserTokensDoc = routeDoc({
  summary: 'Revoke every Account-Token and API-Token of a user (admins)',
  description:
    'System admins for anyone, team admins for users of their own team. ' +
    'Your own current token is included when you target yourself.',
  tags,
  auth: 'account',
  errors: [403, 404],
  responses: {
    200: jsonResponse('How many live tokens were revoked', tokensRevokedSchema, {
      account_tokens: 2,
      api_tokens: 5,
    }),
  },
});

const createTeamDoc = routeDoc({
  summary: 'Create a team (system admins)',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 409],
  responses: { 201: jsonResponse('The new team', teamSchema) },
});

const listTeamsDoc = routeDoc({
  summary: 'List teams (admins)',
  tags,
  auth: 'account',
  errors: [403],
  responses: { 200: jsonResponse('The teams', listOf('teams', teamSchema)) },
});

/** Users and teams, for system admins (everything) and team admins (their own team). */
export function userRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .use('/api/v1/users/*', auth)
    .use('/api/v1/users', auth)
    .use('/api/v1/teams', auth)
    .post('/api/v1/users', createUserDoc, requireJsonBody, validate('json', createUserBody), async (c) =>
      c.json(userJson(await createUser(deps, c.var.principal, c.req.valid('json'))), 201),
    )
    .get('/api/v1/users', listUsersDoc, async (c) =>
      c.json({ users: (await listUsers(deps, c.var.principal)).map(userJson) }),
    )
    .get('/api/v1/users/:id', getUserDoc, validate('param', userParams), async (c) =>
      c.json(userJson(await getUser(deps, c.var.principal, c.req.valid('param').id))),
    )
    .patch(
      '/api/v1/users/:id',
      updateUserDoc,
      validate('param', userParams),
      requireJsonBody,
      validate('json', updateUserBody),
      async (c) =>
        c.json(
          userJson(await updateUser(deps, c.var.principal, c.req.valid('param').id, c.req.valid('json'))),
        ),
    )
    .post(
      '/api/v1/users/:id/revoke-tokens',
      revokeUserTokensDoc,
      validate('param', userParams),
      async (c) => {
        const revoked = await revokeUserTokens(deps, c.var.principal, c.req.valid('param').id);
        return c.json({ account_tokens: revoked.accountTokens, api_tokens: revoked.apiTokens });
      },
    )
    .post('/api/v1/teams', createTeamDoc, requireJsonBody, validate('json', createTeamBody), async (c) =>
      c.json(teamJson(await createTeam(deps, c.var.principal, c.req.valid('json').name)), 201),
    )
    .get('/api/v1/teams', listTeamsDoc, async (c) =>
      c.json({ teams: (await listTeams(deps, c.var.principal)).map(teamJson) }),
    );
}
