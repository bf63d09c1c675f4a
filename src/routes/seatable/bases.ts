import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createBase, listWorkspaces, memberBaseByName, type Base } from '../../bases/bases';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { baseName } from '../../http/validate';
import { jsonResponse, routeDoc } from '../../openapi/route-doc';
import { exchangeAccountToken } from '../../tokens/base-tokens';
import { parseExpiry } from './expiry';
import { readFields, seatableTime } from './protocol';
import * as seatable from './schemas';

/** A base as SeaTable lists one (`id` is SeaTable's numeric id; ours is the uuid). */
function tableObject(base: Base, creatorEmail: string) {
  return {
    id: base.uuid,
    workspace_id: base.workspaceId,
    uuid: base.uuid,
    name: base.name,
    creator: creatorEmail,
    modifier: creatorEmail,
    created_at: seatableTime(base.createdAt),
    updated_at: seatableTime(base.updatedAt),
  };
}

/** The base named in a `/workspace/{workspace_id}/dtable/{base_name}/…` path, for a member. */
export async function pathBase(deps: Deps, c: Context<AppEnv>) {
  const name = baseName.safeParse(c.req.param('base_name'));
  if (!name.success) throw badRequest('dtable name invalid.');
  return memberBaseByName(deps, c.var.principal, c.req.param('workspace_id')!, name.data);
}

/** The connection details SeaTable clients expect beside a Base-Token. */
export function baseServers(deps: Deps) {
  const { dtableServer, dtableSocket, dtableDb, useApiGateway } = deps.config.seatable;
  return {
    dtable_server: dtableServer,
    dtable_socket: dtableSocket,
    dtable_db: dtableDb,
    use_api_gateway: useApiGateway,
  };
}

const tags: ['SeaTable'] = ['SeaTable'];

const workspacesDoc = routeDoc({
  summary: 'Workspaces with their bases (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  responses: { 200: jsonResponse('Your workspaces', seatable.workspaces) },
});

const createBaseDoc = routeDoc({
  summary: 'Create a base (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  body: true,
  errors: [404],
  requestBody: seatable.formBody(seatable.createBaseForm),
  responses: { 201: jsonResponse('The base', z.strictObject({ table: seatable.table })) },
});

const accessTokenDoc = routeDoc({
  summary: 'Account-Token → Base-Token (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  errors: [404],
  parameters: [seatable.expParameter],
  responses: { 200: jsonResponse('The Base-Token and where to use it', seatable.accessToken) },
});

/** SeaTable's workspaces, base creation and Account-Token → Base-Token. */
export function seatableBaseRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .get('/api/v2.1/workspaces/', workspacesDoc, auth, async (c) => {
      const workspaces = await listWorkspaces(deps, c.var.principal);
      return c.json({
        workspace_list: workspaces.map((workspace) => ({
          id: workspace.id,
          name: workspace.name,
          owner_type: 'Personal',
          table_list: workspace.bases.map((base) => tableObject(base, c.var.principal.email)),
        })),
      });
    })
    .post('/api/v2.1/dtables/', createBaseDoc, auth, async (c) => {
      const fields = await readFields(c);
      const name = baseName.safeParse(fields.name ?? '');
      if (!name.success) throw badRequest('name invalid.');
      const { owner, workspace_id } = fields;
      if (owner === undefined && workspace_id === undefined) throw badRequest('owner invalid.');
      if (owner?.endsWith('@seafile_group'))
        throw badRequest('group workspaces are not supported by tokenladder');
      const base = await createBase(deps, c.var.principal, {
        name: name.data,
        workspaceId: workspace_id,
        ownerEmail: owner,
      });
      return c.json({ table: tableObject(base, c.var.principal.email) }, 201);
    })
    .get(
      '/api/v2.1/workspace/:workspace_id/dtable/:base_name/access-token/',
      accessTokenDoc,
      auth,
      async (c) => {
        const base = await pathBase(deps, c);
        const ttlSeconds = parseExpiry(c.req.query('exp'), deps.config.baseTokenTtlSeconds);
        const { jwt } = await exchangeAccountToken(deps, c.var.principal, base.uuid, { ttlSeconds });
        return c.json({
          access_token: jwt,
          dtable_uuid: base.uuid,
          ...baseServers(deps),
          workspace_id: base.workspaceId,
          dtable_name: base.name,
        });
      },
    );
}
