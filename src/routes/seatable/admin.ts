import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { uuidParam } from '../../http/validate';
import { adminListBaseApiTokens, adminRevokeApiToken, teamApiTokens } from '../../tokens/admin-api-tokens';
import { jsonResponse, routeDoc } from '../../openapi/route-doc';
import { apiTokenObject } from './api-tokens';
import * as seatable from './schemas';

const pageSchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(25),
});

function baseUuidOf(param: string | undefined): string {
  const parsed = uuidParam.safeParse(param);
  if (!parsed.success) throw badRequest('dtable_uuid invalid.');
  return parsed.data;
}

const SYSTEM_BASE = '/api/v2.1/admin/dtables/:base_uuid/api-tokens';
const TEAM_BASE = '/api/v2.1/org/:org_id/admin/dtables/:base_uuid/api-tokens';
const tags: ['SeaTable'] = ['SeaTable'];

const listDoc = (summary: string) =>
  routeDoc({
    summary,
    tags,
    auth: 'account',
    seatable: true,
    errors: [404],
    responses: { 200: jsonResponse('The tokens (no secrets)', seatable.adminApiTokens) },
  });

const revokeDoc = (summary: string) =>
  routeDoc({
    summary,
    tags,
    auth: 'account',
    seatable: true,
    errors: [404],
    responses: { 200: jsonResponse('Done', seatable.success) },
  });

const systemListDoc = listDoc("A base's API-Tokens (SeaTable, system admins)");
const systemRevokeDoc = revokeDoc("Revoke a base's API-Token (SeaTable, system admins)");
const teamListDoc = listDoc("A base's API-Tokens (SeaTable, team admins)");
const teamRevokeDoc = revokeDoc("Revoke a base's API-Token (SeaTable, team admins)");

const teamTokensDoc = routeDoc({
  summary: "All API-Tokens of a team's bases, paged (SeaTable, team admins)",
  tags,
  auth: 'account',
  seatable: true,
  errors: [404],
  parameters: [
    { in: 'query', name: 'page', required: false, schema: { type: 'integer', minimum: 1, default: 1 } },
    {
      in: 'query',
      name: 'per_page',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
    },
  ],
  responses: { 200: jsonResponse('The tokens, with total_count', seatable.adminApiTokens) },
});

/** SeaTable's admin views of API-Tokens: system admins over every base, team ("org") admins over their team's. */
export function seatableAdminRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .use('/api/v2.1/admin/*', auth)
    .use('/api/v2.1/org/*', auth)
    .get(`${SYSTEM_BASE}/`, systemListDoc, async (c) => {
      const baseUuid = baseUuidOf(c.req.param('base_uuid'));
      const tokens = await adminListBaseApiTokens(deps, c.var.principal, baseUuid);
      return c.json({ api_tokens: tokens.map((token) => apiTokenObject(token)) });
    })
    .delete(`${SYSTEM_BASE}/:app_name/`, systemRevokeDoc, async (c) => {
      const baseUuid = baseUuidOf(c.req.param('base_uuid'));
      await adminRevokeApiToken(deps, c.var.principal, baseUuid, c.req.param('app_name'));
      return c.json({ success: true });
    })
    .get(`${TEAM_BASE}/`, teamListDoc, async (c) => {
      const baseUuid = baseUuidOf(c.req.param('base_uuid'));
      const tokens = await adminListBaseApiTokens(deps, c.var.principal, baseUuid, c.req.param('org_id'));
      return c.json({
        api_tokens: tokens.map((token) => ({
          ...apiTokenObject(token),
          creator: token.createdByEmail,
          avatar_url: '',
        })),
      });
    })
    .delete(`${TEAM_BASE}/:app_name/`, teamRevokeDoc, async (c) => {
      const { org_id, app_name } = c.req.param();
      await adminRevokeApiToken(
        deps,
        c.var.principal,
        baseUuidOf(c.req.param('base_uuid')),
        app_name,
        org_id,
      );
      return c.json({ success: true });
    })
    .get('/api/v2.1/org/:org_id/admin/api-tokens/', teamTokensDoc, async (c) => {
      const query = pageSchema.safeParse({ page: c.req.query('page'), per_page: c.req.query('per_page') });
      if (!query.success) throw badRequest('page or per_page invalid.');
      const { tokens, total } = await teamApiTokens(deps, c.var.principal, c.req.param('org_id'), {
        page: query.data.page,
        perPage: query.data.per_page,
      });
      return c.json({
        api_tokens: tokens.map((token) => ({
          ...apiTokenObject(token),
          creator: token.createdByEmail,
          avatar_url: '',
          dtable_uuid: token.baseUuid,
          dtable_name: token.baseName,
          dtable_icon: '',
          dtable_color: '',
        })),
        total_count: total,
      });
    });
}
