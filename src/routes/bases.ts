import { Hono } from 'hono';
import { z } from 'zod';
import {
  createBase,
  listBases,
  listMembers,
  listWorkspaces,
  memberBase,
  removeMember,
  setMember,
} from '../bases/bases';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { baseName, requireJsonBody, uuidParam, validate } from '../http/validate';
import { baseSchema, baseSummarySchema, listOf, memberSchema, workspaceSchema } from '../openapi/responses';
import { emptyResponse, jsonResponse, routeDoc } from '../openapi/route-doc';
import { baseJson, baseSummaryJson, memberJson, workspaceJson } from './serializers';

const baseParams = z.object({ uuid: uuidParam });
const memberParams = z.object({ uuid: uuidParam, user_id: z.uuid('is not a user id') });
const createBaseBody = z.strictObject({
  name: baseName,
  workspace_id: z.uuid('is not a workspace id').optional(),
});
const memberBody = z.strictObject({ permission: z.enum(['r', 'rw', 'admin']) });

const tags: ['Bases'] = ['Bases'];

const listWorkspacesDoc = routeDoc({
  summary: 'Your personal workspace with its bases',
  tags,
  auth: 'account',
  responses: { 200: jsonResponse('Your workspaces', listOf('workspaces', workspaceSchema)) },
});

const createBaseDoc = routeDoc({
  summary: 'Create a base (you become its admin)',
  tags,
  auth: 'account',
  body: true,
  errors: [404, 409],
  responses: { 201: jsonResponse('The new base', baseSchema) },
});

const listBasesDoc = routeDoc({
  summary: 'The bases you are a member of',
  tags,
  auth: 'account',
  responses: { 200: jsonResponse('Your bases with your permission on each', listOf('bases', baseSchema)) },
});

const getBaseDoc = routeDoc({
  summary: 'One base, with your permission on it',
  tags,
  auth: 'account',
  errors: [404],
  responses: { 200: jsonResponse('The base', baseSummarySchema) },
});

const listMembersDoc = routeDoc({
  summary: "A base's members",
  tags,
  auth: 'account',
  errors: [404],
  responses: { 200: jsonResponse('The members', listOf('members', memberSchema)) },
});

const setMemberDoc = routeDoc({
  summary: 'Add a member or change their permission (base admins)',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404, 409],
  responses: { 200: jsonResponse('The membership', memberSchema) },
});

const removeMemberDoc = routeDoc({
  summary: 'Remove a member (base admins); a base keeps one admin',
  tags,
  auth: 'account',
  errors: [403, 404, 409],
  responses: { 204: emptyResponse('Removed') },
});

/** Workspaces, bases and base membership (who holds r, rw or admin on a base). */
export function baseRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .use('/api/v1/workspaces', auth)
    .use('/api/v1/bases', auth)
    .use('/api/v1/bases/*', auth)
    .get('/api/v1/workspaces', listWorkspacesDoc, async (c) =>
      c.json({ workspaces: (await listWorkspaces(deps, c.var.principal)).map(workspaceJson) }),
    )
    .post('/api/v1/bases', createBaseDoc, requireJsonBody, validate('json', createBaseBody), async (c) => {
      const { name, workspace_id } = c.req.valid('json');
      const base = await createBase(deps, c.var.principal, { name, workspaceId: workspace_id });
      return c.json(baseJson(base), 201);
    })
    .get('/api/v1/bases', listBasesDoc, async (c) =>
      c.json({ bases: (await listBases(deps, c.var.principal)).map(baseJson) }),
    )
    .get('/api/v1/bases/:uuid', getBaseDoc, validate('param', baseParams), async (c) => {
      return c.json(baseSummaryJson(await memberBase(deps, c.var.principal, c.req.valid('param').uuid)));
    })
    .get('/api/v1/bases/:uuid/members', listMembersDoc, validate('param', baseParams), async (c) =>
      c.json({
        members: (await listMembers(deps, c.var.principal, c.req.valid('param').uuid)).map(memberJson),
      }),
    )
    .put(
      '/api/v1/bases/:uuid/members/:user_id',
      setMemberDoc,
      validate('param', memberParams),
      requireJsonBody,
      validate('json', memberBody),
      async (c) => {
        const { uuid, user_id } = c.req.valid('param');
        return c.json(
          memberJson(await setMember(deps, c.var.principal, uuid, user_id, c.req.valid('json').permission)),
        );
      },
    )
    .delete(
      '/api/v1/bases/:uuid/members/:user_id',
      removeMemberDoc,
      validate('param', memberParams),
      async (c) => {
        const { uuid, user_id } = c.req.valid('param');
        await removeMember(deps, c.var.principal, uuid, user_id);
        return c.body(null, 204);
      },
    );
}
