import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { uuidParam } from '../../http/validate';
import { adminListBaseApiTokens, adminRevokeApiToken, teamApiTokens } from '../../tokens/admin-api-tokens';
import { apiTokenObject } from './api-tokens';
import { describe, json } from '../../openapi/describe';
import * as seatable from '../../openapi/seatable-schemas';

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
  const tags: ['SeaTable'] = ['SeaTable'];
  const list = (summary: string) =>
    describe({
      summary,
      tags,
      auth: 'account',
      seatable: true,
      errors: [404],
      responses: { 200: json('The tokens (no secrets)', seatable.adminApiTokens) },
    });
  const revoke = (summary: string) =>
    describe({
      summary,
      tags,
      auth: 'account',
      seatable: true,
      errors: [404],
      responses: { 200: json('Done', seatable.success) },
    });
  const teamTokensDoc = describe({
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
    responses: { 200: json('The tokens, with total_count', seatable.adminApiTokens) },
  });
  return new Hono<AppEnv>()
    .use('/api/v2.1/admin/*', requireAccount(deps))
    .use('/api/v2.1/org/*', requireAccount(deps))
    .get(`${systemBase}/`, list("A base's API-Tokens (SeaTable, system admins)"), async (c) => {
      const tokens = await adminListBaseApiTokens(
        deps,
        c.var.principal,
        baseUuidOf(c.req.param('base_uuid')),
      );
      return c.json({ api_tokens: tokens.map((token) => apiTokenObject(token)) });
    })
    .delete(
      `${systemBase}/:app_name/`,
      revoke("Revoke a base's API-Token (SeaTable, system admins)"),
      async (c) => {
        await adminRevokeApiToken(
          deps,
          c.var.principal,
          baseUuidOf(c.req.param('base_uuid')),
          c.req.param('app_name'),
        );
        return c.json({ success: true });
      },
    )
    .get(`${teamBase}/`, list("A base's API-Tokens (SeaTable, team admins)"), async (c) => {
      const tokens = await adminListBaseApiTokens(
        deps,
        c.var.principal,
        baseUuidOf(c.req.param('base_uuid')),
        c.req.param('org_id'),
      );
      return c.json({
        api_tokens: tokens.map((token) => ({
          ...apiTokenObject(token),
          creator: token.created_by_email,
          avatar_url: '',
        })),
      });
    })
    .delete(
      `${teamBase}/:app_name/`,
      revoke("Revoke a base's API-Token (SeaTable, team admins)"),
      async (c) => {
        await adminRevokeApiToken(
          deps,
          c.var.principal,
          baseUuidOf(c.req.param('base_uuid')),
          c.req.param('app_name'),
          c.req.param('org_id'),
        );
        return c.json({ success: true });
      },
    )
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
