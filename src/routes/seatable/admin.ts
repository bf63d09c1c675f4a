import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { uuidParam } from '../../http/validate';
import { adminListBaseApiTokens, adminRevokeApiToken, teamApiTokens } from '../../tokens/admin-api-tokens';
import { apiTokenObject } from './api-tokens';

const pageSchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(25),
});

function baseUuidOf(param: string | undefined): string {
  const parsed = uuidParam.safeParse(param);
  if (!parsed.success) throw badRequest('dtable_uuid invalid.');
  return parsed.data;
}

/** SeaTable's admin views of API-Tokens: system admins over every base, team ("org") admins over their team's. */
export function seatableAdminRoutes(deps: Deps) {
  const systemBase = '/api/v2.1/admin/dtables/:base_uuid/api-tokens';
  const teamBase = '/api/v2.1/org/:org_id/admin/dtables/:base_uuid/api-tokens';
  return new Hono<AppEnv>()
    .use('/api/v2.1/admin/*', requireAccount(deps))
    .use('/api/v2.1/org/*', requireAccount(deps))
    .get(`${systemBase}/`, async (c) => {
      const tokens = await adminListBaseApiTokens(deps, c.var.principal, baseUuidOf(c.req.param('base_uuid')));
      return c.json({ api_tokens: tokens.map((token) => apiTokenObject(token)) });
    })
    .delete(`${systemBase}/:app_name/`, async (c) => {
      await adminRevokeApiToken(deps, c.var.principal, baseUuidOf(c.req.param('base_uuid')), c.req.param('app_name'));
      return c.json({ success: true });
    })
    .get(`${teamBase}/`, async (c) => {
      const tokens = await adminListBaseApiTokens(deps, c.var.principal, baseUuidOf(c.req.param('base_uuid')), c.req.param('org_id'));
      return c.json({ api_tokens: tokens.map((token) => ({ ...apiTokenObject(token), creator: token.created_by_email, avatar_url: '' })) });
    })
    .delete(`${teamBase}/:app_name/`, async (c) => {
      await adminRevokeApiToken(deps, c.var.principal, baseUuidOf(c.req.param('base_uuid')), c.req.param('app_name'), c.req.param('org_id'));
      return c.json({ success: true });
    })
    .get('/api/v2.1/org/:org_id/admin/api-tokens/', async (c) => {
      const query = pageSchema.safeParse({ page: c.req.query('page'), per_page: c.req.query('per_page') });
      if (!query.success) throw badRequest('page or per_page invalid.');
      const { tokens, total } = await teamApiTokens(deps, c.var.principal, c.req.param('org_id'), { page: query.data.page, perPage: query.data.per_page });
      return c.json({
        api_tokens: tokens.map((token) => ({
          ...apiTokenObject(token),
          creator: token.created_by_email,
          avatar_url: '',
          dtable_uuid: token.base_uuid,
          dtable_name: token.base_name,
          dtable_icon: '',
          dtable_color: '',
        })),
        total_count: total,
      });
    });
}
