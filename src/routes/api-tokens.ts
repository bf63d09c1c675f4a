import { Hono } from 'hono';
import { z } from 'zod';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { idParam, requireJsonBody, uuidParam, validate } from '../http/validate';
import {
  apiTokenFiltersQuery,
  bulkDeleteBody,
  createApiTokenBody,
  createBaseApiTokenBody,
  explainBody,
  regenerateBody,
  updateApiTokenBody,
} from '../openapi/requests';
import {
  apiTokenCreatedResponse,
  apiTokenCreatedSchema,
  apiTokenSchema,
  explanationSchema,
  listOf,
} from '../openapi/responses';
import { emptyResponse, jsonResponse, routeDoc } from '../openapi/route-doc';
import {
  bulkRevokeApiTokens,
  regenerateApiToken,
  revokeApiToken,
  updateApiToken,
} from '../tokens/api-token-lifecycle';
import { createApiToken, getApiToken, listApiTokens, listBaseApiTokens } from '../tokens/api-tokens';
import { explainApiToken } from '../tokens/explain';
import { expiryOf } from '../tokens/expiry';
import type { ScopeAction } from '../verify/scopes';
import { apiTokenCreatedJson, apiTokenJson, explanationJson } from './serializers';

const tags: ['API-Tokens'] = ['API-Tokens'];

const createBaseApiTokenDoc = routeDoc({
  summary: 'Create an API-Token for one base',
  description:
    'Never above your own permission on the base (403); names are unique per base (409); at most TOKENLADDER_API_TOKEN_CREATE_LIMIT a day per user (429).',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404, 409, 429],
  responses: { 201: apiTokenCreatedResponse },
});

const listBaseApiTokensDoc = routeDoc({
  summary: "A base's API-Tokens (all for base admins, your own otherwise; no secrets)",
  tags,
  auth: 'account',
  errors: [404],
  responses: { 200: jsonResponse('The tokens', listOf('api_tokens', apiTokenSchema)) },
});

const createApiTokenDoc = routeDoc({
  summary: 'Create an API-Token for several bases, a workspace or all your bases',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404, 409, 429],
  responses: { 201: apiTokenCreatedResponse },
});

const listApiTokensDoc = routeDoc({
  summary: 'The API-Tokens you may manage, filtered (no secrets)',
  tags,
  auth: 'account',
  responses: { 200: jsonResponse('The tokens', listOf('api_tokens', apiTokenSchema)) },
});

const bulkDeleteDoc = routeDoc({
  summary: 'Revoke up to 100 API-Tokens, all or nothing',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404],
  responses: {
    200: jsonResponse('How many were revoked', z.strictObject({ deleted: z.number().int() })),
  },
});

const getApiTokenDoc = routeDoc({
  summary: 'One API-Token (no secret)',
  tags,
  auth: 'account',
  errors: [404],
  responses: { 200: jsonResponse('The token', apiTokenSchema) },
});

const updateApiTokenDoc = routeDoc({
  summary: 'Rename, re-scope, re-date, enable or disable an API-Token',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404, 409],
  responses: { 200: jsonResponse('The token', apiTokenSchema) },
});

const revokeApiTokenDoc = routeDoc({
  summary: 'Revoke an API-Token at once',
  tags,
  auth: 'account',
  errors: [404],
  responses: { 204: emptyResponse('Revoked') },
});

const regenerateApiTokenDoc = routeDoc({
  summary: 'New secret for an API-Token (same id, name, grant, expiry)',
  description:
    "The old secret dies at once, or after `grace_seconds`. Only the token's owner obtains a secret " +
    "(a system admin for a service account's token); an admin of the token gets 403 and may disable or delete it.",
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404, 409],
  responses: {
    200: jsonResponse('The token with its new secret `token` (shown only here)', apiTokenCreatedSchema),
  },
});

const explainApiTokenDoc = routeDoc({
  summary: 'Why an exchange or action with this token would be refused',
  tags,
  auth: 'account',
  body: true,
  errors: [404],
  responses: { 200: jsonResponse('The verdict', explanationSchema) },
});

const baseParams = z.object({ uuid: uuidParam });
const tokenParams = z.object({ id: idParam });

/** API-Tokens: minted with an Account-Token, listed without secrets, managed through their whole life. */
export function apiTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  const now = () => epochSeconds(deps.clock);
  return new Hono<AppEnv>()
    .use('/api/v1/bases/:uuid/api-tokens', auth)
    .use('/api/v1/api-tokens', auth)
    .use('/api/v1/api-tokens/*', auth)
    .post(
      '/api/v1/bases/:uuid/api-tokens',
      createBaseApiTokenDoc,
      validate('param', baseParams),
      requireJsonBody,
      validate('json', createBaseApiTokenBody),
      async (c) => {
        const { expires_at, expires_in_days, allowed_networks, ...body } = c.req.valid('json');
        const expiry = { expiresAt: expires_at, expiresInDays: expires_in_days };
        const created = await createApiToken(deps, c.var.principal, {
          ...body,
          allowedNetworks: allowed_networks,
          resources: { type: 'base', baseUuid: c.req.valid('param').uuid },
          expiresAt: expiryOf(expiry, now()) ?? null,
        });
        return c.json(apiTokenCreatedJson(created), 201);
      },
    )
    .get('/api/v1/bases/:uuid/api-tokens', listBaseApiTokensDoc, validate('param', baseParams), async (c) => {
      const tokens = await listBaseApiTokens(deps, c.var.principal, c.req.valid('param').uuid);
      return c.json({ api_tokens: tokens.map(apiTokenJson) });
    })
    .post(
      '/api/v1/api-tokens',
      createApiTokenDoc,
      requireJsonBody,
      validate('json', createApiTokenBody),
      async (c) => {
        const { expires_at, expires_in_days, allowed_networks, ...body } = c.req.valid('json');
        const expiry = { expiresAt: expires_at, expiresInDays: expires_in_days };
        const created = await createApiToken(deps, c.var.principal, {
          ...body,
          allowedNetworks: allowed_networks,
          expiresAt: expiryOf(expiry, now()) ?? null,
        });
        return c.json(apiTokenCreatedJson(created), 201);
      },
    )
    .get('/api/v1/api-tokens', listApiTokensDoc, validate('query', apiTokenFiltersQuery), async (c) => {
      const { base_uuid, created_by, status } = c.req.valid('query');
      const filters = { baseUuid: base_uuid, createdBy: created_by, status };
      const tokens = await listApiTokens(deps, c.var.principal, filters);
      return c.json({ api_tokens: tokens.map(apiTokenJson) });
    })
    .post(
      '/api/v1/api-tokens/bulk-delete',
      bulkDeleteDoc,
      requireJsonBody,
      validate('json', bulkDeleteBody),
      async (c) =>
        c.json({ deleted: await bulkRevokeApiTokens(deps, c.var.principal, c.req.valid('json').ids) }),
    )
    .get('/api/v1/api-tokens/:id', getApiTokenDoc, validate('param', tokenParams), async (c) => {
      return c.json(apiTokenJson(await getApiToken(deps, c.var.principal, c.req.valid('param').id)));
    })
    .patch(
      '/api/v1/api-tokens/:id',
      updateApiTokenDoc,
      validate('param', tokenParams),
      requireJsonBody,
      validate('json', updateApiTokenBody),
      async (c) => {
        const { expires_at, expires_in_days, allowed_networks, ...patch } = c.req.valid('json');
        const expiry = { expiresAt: expires_at, expiresInDays: expires_in_days };
        const updated = await updateApiToken(deps, c.var.principal, c.req.valid('param').id, {
          ...patch,
          allowedNetworks: allowed_networks,
          expiresAt: expiryOf(expiry, now()),
        });
        return c.json(apiTokenJson(updated));
      },
    )
    .delete('/api/v1/api-tokens/:id', revokeApiTokenDoc, validate('param', tokenParams), async (c) => {
      await revokeApiToken(deps, c.var.principal, c.req.valid('param').id);
      return c.body(null, 204);
    })
    .post(
      '/api/v1/api-tokens/:id/regenerate',
      regenerateApiTokenDoc,
      validate('param', tokenParams),
      requireJsonBody,
      validate('json', regenerateBody),
      async (c) => {
        const { id } = c.req.valid('param');
        const { grace_seconds } = c.req.valid('json');
        return c.json(
          apiTokenCreatedJson(await regenerateApiToken(deps, c.var.principal, id, grace_seconds)),
        );
      },
    )
    .post(
      '/api/v1/api-tokens/:id/explain',
      explainApiTokenDoc,
      validate('param', tokenParams),
      requireJsonBody,
      validate('json', explainBody),
      async (c) => {
        const { base_uuid, permission, action, table } = c.req.valid('json');
        const request = { baseUuid: base_uuid, permission, action: action as ScopeAction | undefined, table };
        return c.json(
          explanationJson(await explainApiToken(deps, c.var.principal, c.req.valid('param').id, request)),
        );
      },
    );
}
