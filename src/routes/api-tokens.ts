import { Hono } from 'hono';
import { z } from 'zod';
import { createServiceAccount, listServiceAccounts } from '../accounts/service-accounts';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { idParam, requireJsonBody, uuidParam, validate } from '../http/validate';
import { describe, json, noContent } from '../openapi/describe';
import {
  apiTokenCreatedSchema,
  apiTokenSchema,
  explainSchema as explanationSchema,
  listOf,
  serviceAccountSchema as serviceAccountView,
} from '../openapi/schemas';
import {
  bulkRevokeApiTokens,
  regenerateApiToken,
  revokeApiToken,
  updateApiToken,
} from '../tokens/api-token-lifecycle';
import {
  apiTokenById,
  createApiToken,
  listApiTokens,
  listBaseApiTokens,
  manageableApiToken,
} from '../tokens/api-tokens';
import { explainApiToken } from '../tokens/explain';
import type { ScopeAction } from '../verify/scopes';
import {
  bulkDeleteSchema,
  createBaseTokenSchema,
  createTokenSchema,
  expiresAtFrom,
  explainSchema,
  listFiltersSchema,
  regenerateSchema,
  serviceAccountSchema,
  updateTokenSchema,
} from './api-token-schemas';

/** API-Tokens: minted with an Account-Token, listed without secrets, managed through their whole life. */
export function apiTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  const tokenId = validate('param', z.object({ id: idParam }));
  const now = () => epochSeconds(deps.clock);
  const tags: ['API-Tokens'] = ['API-Tokens'];
  const createdResponse = json(
    'The new API-Token with its secret `token` (shown only here)',
    apiTokenCreatedSchema,
    {
      id: 'm4zq2k7d3x5v6w2p',
      token: 'tl_api_m4zq2k7d3x5v6w2p_…',
      name: 'nightly-report',
      permission: 'r',
      scopes: null,
      resources: { type: 'base', base_uuid: '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f' },
      base_uuid: '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f',
      enabled: true,
      expires_at: '2027-01-30T12:00:00Z',
      expired: false,
      created_by: '5d2f0c1a-3b4e-4f6a-8c9d-0e1f2a3b4c5d',
      created_by_email: 'ada@example.com',
      created_at: '2026-11-01T12:00:00Z',
      updated_at: '2026-11-01T12:00:00Z',
      last_used_at: null,
      previous_secret: null,
    },
  );
  return new Hono<AppEnv>()
    .use('/api/v1/api-tokens', auth)
    .use('/api/v1/api-tokens/*', auth)
    .use('/api/v1/service-accounts', auth)
    .use('/api/v1/service-accounts/*', auth)
    .post(
      '/api/v1/bases/:uuid/api-tokens',
      describe({
        summary: 'Create an API-Token for one base',
        description: 'Never above your own permission on the base (403); names are unique per base (409).',
        tags,
        auth: 'account',
        body: true,
        errors: [403, 404, 409],
        responses: { 201: createdResponse },
      }),
      auth,
      validate('param', z.object({ uuid: uuidParam })),
      requireJsonBody,
      validate('json', createBaseTokenSchema),
      async (c) => {
        const body = c.req.valid('json');
        const resources = { type: 'base' as const, base_uuid: c.req.valid('param').uuid };
        const created = await createApiToken(deps, c.var.principal, {
          ...body,
          resources,
          expiresAt: expiresAtFrom(body, now()) ?? null,
        });
        return c.json(created, 201);
      },
    )
    .get(
      '/api/v1/bases/:uuid/api-tokens',
      describe({
        summary: "A base's API-Tokens (all for base admins, your own otherwise; no secrets)",
        tags,
        auth: 'account',
        errors: [404],
        responses: { 200: json('The tokens', listOf('api_tokens', apiTokenSchema)) },
      }),
      auth,
      validate('param', z.object({ uuid: uuidParam })),
      async (c) =>
        c.json({ api_tokens: await listBaseApiTokens(deps, c.var.principal, c.req.valid('param').uuid) }),
    )
    .post(
      '/api/v1/api-tokens',
      describe({
        summary: 'Create an API-Token for several bases, a workspace or all your bases',
        tags,
        auth: 'account',
        body: true,
        errors: [403, 404, 409],
        responses: { 201: createdResponse },
      }),
      requireJsonBody,
      validate('json', createTokenSchema),
      async (c) => {
        const body = c.req.valid('json');
        return c.json(
          await createApiToken(deps, c.var.principal, {
            ...body,
            expiresAt: expiresAtFrom(body, now()) ?? null,
          }),
          201,
        );
      },
    )
    .get(
      '/api/v1/api-tokens',
      describe({
        summary: 'The API-Tokens you may manage, filtered (no secrets)',
        tags,
        auth: 'account',
        responses: { 200: json('The tokens', listOf('api_tokens', apiTokenSchema)) },
      }),
      validate('query', listFiltersSchema),
      async (c) => c.json({ api_tokens: await listApiTokens(deps, c.var.principal, c.req.valid('query')) }),
    )
    .post(
      '/api/v1/api-tokens/bulk-delete',
      describe({
        summary: 'Revoke up to 100 API-Tokens, all or nothing',
        tags,
        auth: 'account',
        body: true,
        errors: [403, 404],
        responses: { 200: json('How many were revoked', z.strictObject({ deleted: z.number().int() })) },
      }),
      requireJsonBody,
      validate('json', bulkDeleteSchema),
      async (c) =>
        c.json({ deleted: await bulkRevokeApiTokens(deps, c.var.principal, c.req.valid('json').ids) }),
    )
    .get(
      '/api/v1/api-tokens/:id',
      describe({
        summary: 'One API-Token (no secret)',
        tags,
        auth: 'account',
        errors: [404],
        responses: { 200: json('The token', apiTokenSchema) },
      }),
      tokenId,
      async (c) => {
        await manageableApiToken(deps, c.var.principal, c.req.valid('param').id);
        return c.json(await apiTokenById(deps, c.req.valid('param').id));
      },
    )
    .patch(
      '/api/v1/api-tokens/:id',
      describe({
        summary: 'Rename, re-scope, re-date, enable or disable an API-Token',
        tags,
        auth: 'account',
        body: true,
        errors: [403, 404, 409],
        responses: { 200: json('The token', apiTokenSchema) },
      }),
      tokenId,
      requireJsonBody,
      validate('json', updateTokenSchema),
      async (c) => {
        const body = c.req.valid('json');
        return c.json(
          await updateApiToken(deps, c.var.principal, c.req.valid('param').id, {
            ...body,
            expiresAt: expiresAtFrom(body, now()),
          }),
        );
      },
    )
    .delete(
      '/api/v1/api-tokens/:id',
      describe({
        summary: 'Revoke an API-Token at once',
        tags,
        auth: 'account',
        errors: [404],
        responses: { 204: noContent('Revoked') },
      }),
      tokenId,
      async (c) => {
        await revokeApiToken(deps, c.var.principal, c.req.valid('param').id);
        return c.body(null, 204);
      },
    )
    .post(
      '/api/v1/api-tokens/:id/regenerate',
      describe({
        summary: 'New secret for an API-Token (same id, name, grant, expiry)',
        description: 'The old secret dies at once, or after `grace_seconds`.',
        tags,
        auth: 'account',
        body: true,
        errors: [404, 409],
        responses: {
          200: json('The token with its new secret `token` (shown only here)', apiTokenCreatedSchema),
        },
      }),
      tokenId,
      requireJsonBody,
      validate('json', regenerateSchema),
      async (c) =>
        c.json(
          await regenerateApiToken(
            deps,
            c.var.principal,
            c.req.valid('param').id,
            c.req.valid('json').grace_seconds,
          ),
        ),
    )
    .post(
      '/api/v1/api-tokens/:id/explain',
      describe({
        summary: 'Why an exchange or action with this token would be refused',
        tags,
        auth: 'account',
        body: true,
        errors: [404],
        responses: { 200: json('The verdict', explanationSchema) },
      }),
      tokenId,
      requireJsonBody,
      validate('json', explainSchema),
      async (c) => {
        const { base_uuid, permission, action, table } = c.req.valid('json');
        return c.json(
          await explainApiToken(deps, c.var.principal, c.req.valid('param').id, {
            baseUuid: base_uuid,
            permission,
            action: action as ScopeAction | undefined,
            table,
          }),
        );
      },
    )
    .post(
      '/api/v1/service-accounts',
      describe({
        summary: 'Create a service account (system admins)',
        tags: ['Service accounts'],
        auth: 'account',
        body: true,
        errors: [403, 409],
        responses: { 201: json('The service account', serviceAccountView) },
      }),
      requireJsonBody,
      validate('json', serviceAccountSchema),
      async (c) => c.json(await createServiceAccount(deps, c.var.principal, c.req.valid('json').name), 201),
    )
    .get(
      '/api/v1/service-accounts',
      describe({
        summary: 'List service accounts (system admins)',
        tags: ['Service accounts'],
        auth: 'account',
        errors: [403],
        responses: { 200: json('The service accounts', listOf('service_accounts', serviceAccountView)) },
      }),
      async (c) => c.json({ service_accounts: await listServiceAccounts(deps, c.var.principal) }),
    )
    .post(
      '/api/v1/service-accounts/:id/api-tokens',
      describe({
        summary: 'Create an API-Token owned by a service account (system admins)',
        tags: ['Service accounts', 'API-Tokens'],
        auth: 'account',
        body: true,
        errors: [403, 404, 409],
        responses: { 201: createdResponse },
      }),
      validate('param', z.object({ id: z.uuid('is not a user id') })),
      requireJsonBody,
      validate('json', createTokenSchema),
      async (c) => {
        const body = c.req.valid('json');
        const created = await createApiToken(
          deps,
          c.var.principal,
          { ...body, expiresAt: expiresAtFrom(body, now()) ?? null },
          c.req.valid('param').id,
        );
        return c.json(created, 201);
      },
    );
}
