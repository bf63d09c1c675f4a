import { Hono } from 'hono';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { clientIp as clientIpOf } from '../../http/client-ip';
import { readCredential, requireAccount, type AppEnv } from '../../http/auth';
import { displayName } from '../../http/validate';
import { jsonResponse, routeDoc } from '../../openapi/route-doc';
import type { ApiTokenPermission } from '../../store/schema';
import { revokeApiToken, setApiTokenPermission } from '../../tokens/api-token-lifecycle';
import {
  createApiToken,
  findApiTokenByName,
  listBaseApiTokens,
  type ApiToken,
} from '../../tokens/api-tokens';
import { exchangeAppToken } from '../../tokens/exchange';
import { mintTempApiToken } from '../../tokens/temp-api-tokens';
import { baseServers, pathBase } from './bases';
import { parseExpiry } from './expiry';
import { readFields, seatableTime } from './protocol';
import * as seatable from './schemas';

/**
 * An API-Token as SeaTable returns one. `api_token` is the secret only in the create response:
 * tokenladder stores hashes, so lists carry `null` where SeaTable repeats the secret.
 */
export function apiTokenObject(token: ApiToken, secret: string | null = null) {
  return {
    app_name: token.name,
    api_token: secret,
    generated_by: token.createdByEmail,
    generated_at: seatableTime(token.createdAt),
    last_access: seatableTime(token.lastUsedAt ?? token.createdAt),
    permission: token.permission,
  };
}

function readPermission(fields: Record<string, string>): ApiTokenPermission {
  const { permission } = fields;
  if (permission !== 'r' && permission !== 'rw') throw badRequest('permission invalid.');
  return permission;
}

const BASE_PATH = '/api/v2.1/workspace/:workspace_id/dtable/:base_name';
const tags: ['SeaTable'] = ['SeaTable'];

const listDoc = routeDoc({
  summary: "A base's API-Tokens (SeaTable; no secrets)",
  tags,
  auth: 'account',
  seatable: true,
  errors: [404],
  responses: { 200: jsonResponse('The tokens', seatable.apiTokens) },
});

const createDoc = routeDoc({
  summary: 'Create an API-Token (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  body: true,
  errors: [404, 429],
  requestBody: seatable.formBody(seatable.createApiTokenForm),
  responses: {
    201: jsonResponse('The token with its secret `api_token` (shown only here)', seatable.apiToken),
  },
});

const changePermissionDoc = routeDoc({
  summary: "Change an API-Token's permission (SeaTable)",
  tags,
  auth: 'account',
  seatable: true,
  body: true,
  errors: [404],
  requestBody: seatable.formBody(seatable.permissionForm),
  responses: { 200: jsonResponse('The token', seatable.apiToken) },
});

const revokeDoc = routeDoc({
  summary: 'Revoke an API-Token (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  errors: [404],
  responses: { 200: jsonResponse('Done', seatable.success) },
});

const tempApiTokenDoc = routeDoc({
  summary: 'A temporary one-hour API-Token (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  errors: [404],
  responses: { 200: jsonResponse('The temporary token', seatable.tempApiToken) },
});

const appAccessTokenDoc = routeDoc({
  summary: 'API-Token → Base-Token (SeaTable)',
  description: 'Send `Authorization: Token <api-token>`; a temporary API-Token works too.',
  tags,
  auth: 'api-token',
  seatable: true,
  parameters: [seatable.expParameter],
  responses: { 200: jsonResponse('The Base-Token and where to use it', seatable.appAccessToken) },
});

/** SeaTable's API-Token routes of a base, the temporary API-Token, and API-Token → Base-Token. */
export function seatableApiTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .get(`${BASE_PATH}/api-tokens/`, listDoc, auth, async (c) => {
      const base = await pathBase(deps, c);
      const tokens = await listBaseApiTokens(deps, c.var.principal, base.uuid);
      return c.json({ api_tokens: tokens.map((token) => apiTokenObject(token)) });
    })
    .post(`${BASE_PATH}/api-tokens/`, createDoc, auth, async (c) => {
      const base = await pathBase(deps, c);
      const fields = await readFields(c);
      const name = displayName.safeParse(fields.app_name ?? '');
      if (!name.success) throw badRequest('app_name invalid.');
      const created = await createApiToken(deps, c.var.principal, {
        name: name.data,
        permission: readPermission(fields),
        resources: { type: 'base', baseUuid: base.uuid },
        expiresAt: null,
      });
      return c.json(apiTokenObject(created, created.token), 201);
    })
    .put(`${BASE_PATH}/api-tokens/:app_name/`, changePermissionDoc, auth, async (c) => {
      const base = await pathBase(deps, c);
      const permission = readPermission(await readFields(c));
      const name = c.req.param('app_name');
      const token = await setApiTokenPermission(deps, c.var.principal, base.uuid, name, permission);
      return c.json(apiTokenObject(token));
    })
    .delete(`${BASE_PATH}/api-tokens/:app_name/`, revokeDoc, auth, async (c) => {
      const base = await pathBase(deps, c);
      const token = await findApiTokenByName(deps, c.var.principal, base.uuid, c.req.param('app_name'));
      await revokeApiToken(deps, c.var.principal, token.id);
      return c.json({ success: true });
    })
    .get(`${BASE_PATH}/temp-api-token/`, tempApiTokenDoc, auth, async (c) => {
      const base = await pathBase(deps, c);
      return c.json({ api_token: await mintTempApiToken(deps, c.var.principal, base.uuid) });
    })
    .get('/api/v2.1/dtable/app-access-token/', appAccessTokenDoc, async (c) => {
      const credential = readCredential(c);
      const ttlSeconds = parseExpiry(c.req.query('exp'), deps.config.baseTokenTtlSeconds);
      const clientIp = clientIpOf(c, deps.config.clientIpHeader);
      const { issued, base } = await exchangeAppToken(deps, credential, { ttlSeconds, clientIp });
      // SeaTable's answer names one base: a multi-base token must be exchanged on /api/v1 with base_uuid.
      return c.json({
        app_name: issued.grant.tokenName,
        access_token: issued.jwt,
        dtable_uuid: issued.grant.baseUuid,
        ...baseServers(deps),
        workspace_id: base.workspaceId,
        dtable_name: base.name,
      });
    });
}
