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
import { describe, json, noContent } from '../openapi/describe';
import { baseSchema, baseSummarySchema, listOf, memberSchema, workspaceSchema } from '../openapi/schemas';

const baseParam = z.object({ uuid: uuidParam });
const memberParam = z.object({ uuid: uuidParam, user_id: z.uuid('is not a user id') });

/** Workspaces, bases and base membership (who holds r, rw or admin on a base). */
export function baseRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use('/api/v1/workspaces', requireAccount(deps))
    .use('/api/v1/bases', requireAccount(deps))
    .use('/api/v1/bases/*', requireAccount(deps))
    .get(
      '/api/v1/workspaces',
      describe({
        summary: 'Your personal workspace with its bases',
        tags: ['Bases'],
        auth: 'account',
        responses: { 200: json('Your workspaces', listOf('workspaces', workspaceSchema)) },
      }),
      async (c) => c.json({ workspaces: await listWorkspaces(deps, c.var.principal) }),
    )
    .post(
      '/api/v1/bases',
      describe({
        summary: 'Create a base (you become its admin)',
        tags: ['Bases'],
        auth: 'account',
        body: true,
        errors: [404, 409],
        responses: { 201: json('The new base', baseSchema) },
      }),
      requireJsonBody,
      validate(
        'json',
        z.strictObject({ name: baseName, workspace_id: z.uuid('is not a workspace id').optional() }),
      ),
      async (c) => c.json(await createBase(deps, c.var.principal, c.req.valid('json')), 201),
    )
    .get(
      '/api/v1/bases',
      describe({
        summary: 'The bases you are a member of',
        tags: ['Bases'],
        auth: 'account',
        responses: { 200: json('Your bases with your permission on each', listOf('bases', baseSchema)) },
      }),
      async (c) => c.json({ bases: await listBases(deps, c.var.principal) }),
    )
    .get(
      '/api/v1/bases/:uuid',
      describe({
        summary: 'One base, with your permission on it',
        tags: ['Bases'],
        auth: 'account',
        errors: [404],
        responses: { 200: json('The base', baseSummarySchema) },
      }),
      validate('param', baseParam),
      async (c) => {
        const { base, permission } = await memberBase(deps, c.var.principal, c.req.valid('param').uuid);
        return c.json({ uuid: base.id, name: base.name, workspace_id: base.workspace_id, permission });
      },
    )
    .get(
      '/api/v1/bases/:uuid/members',
      describe({
        summary: "A base's members",
        tags: ['Bases'],
        auth: 'account',
        errors: [404],
        responses: { 200: json('The members', listOf('members', memberSchema)) },
      }),
      validate('param', baseParam),
      async (c) => c.json({ members: await listMembers(deps, c.var.principal, c.req.valid('param').uuid) }),
    )
    .put(
      '/api/v1/bases/:uuid/members/:user_id',
      describe({
        summary: 'Add a member or change their permission (base admins)',
        tags: ['Bases'],
        auth: 'account',
        body: true,
        errors: [403, 404, 409],
        responses: { 200: json('The membership', memberSchema) },
      }),
      validate('param', memberParam),
      requireJsonBody,
      validate('json', z.strictObject({ permission: z.enum(['r', 'rw', 'admin']) })),
      async (c) => {
        const { uuid, user_id } = c.req.valid('param');
        return c.json(await setMember(deps, c.var.principal, uuid, user_id, c.req.valid('json').permission));
      },
    )
    .delete(
      '/api/v1/bases/:uuid/members/:user_id',
      describe({
        summary: 'Remove a member (base admins); a base keeps one admin',
        tags: ['Bases'],
        auth: 'account',
        errors: [403, 404, 409],
        responses: { 204: noContent('Removed') },
      }),
      validate('param', memberParam),
      async (c) => {
        const { uuid, user_id } = c.req.valid('param');
        await removeMember(deps, c.var.principal, uuid, user_id);
        return c.body(null, 204);
      },
    );
}
