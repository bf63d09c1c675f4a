import { Hono } from 'hono';
import { z } from 'zod';
import { createServiceAccount, listServiceAccounts } from '../accounts/service-accounts';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { requireJsonBody, validate } from '../http/validate';
import { createApiTokenBody, createServiceAccountBody } from '../openapi/requests';
import { apiTokenCreatedResponse, listOf, serviceAccountSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { createApiToken } from '../tokens/api-tokens';
import { expiryOf } from '../tokens/expiry';
import { apiTokenCreatedJson, serviceAccountJson } from './serializers';

const createServiceAccountDoc = routeDoc({
  summary: 'Create a service account (system admins)',
  tags: ['Service accounts'],
  auth: 'account',
  body: true,
  errors: [403, 409],
  responses: { 201: jsonResponse('The service account', serviceAccountSchema) },
});

const listServiceAccountsDoc = routeDoc({
  summary: 'List service accounts (system admins)',
  tags: ['Service accounts'],
  auth: 'account',
  errors: [403],
  responses: {
    200: jsonResponse('The service accounts', listOf('service_accounts', serviceAccountSchema)),
  },
});

const createServiceAccountTokenDoc = routeDoc({
  summary: 'Create an API-Token owned by a service account (system admins)',
  tags: ['Service accounts', 'API-Tokens'],
  auth: 'account',
  body: true,
  errors: [403, 404, 409, 429],
  responses: { 201: apiTokenCreatedResponse },
});

const serviceAccountParams = z.object({ id: z.uuid('is not a user id') });

/** Service accounts, for system admins: non-login users that own API-Tokens (src/accounts/service-accounts.ts). */
export function serviceAccountRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .use('/api/v1/service-accounts', auth)
    .use('/api/v1/service-accounts/*', auth)
    .post(
      '/api/v1/service-accounts',
      createServiceAccountDoc,
      requireJsonBody,
      validate('json', createServiceAccountBody),
      async (c) =>
        c.json(
          serviceAccountJson(await createServiceAccount(deps, c.var.principal, c.req.valid('json').name)),
          201,
        ),
    )
    .get('/api/v1/service-accounts', listServiceAccountsDoc, async (c) =>
      c.json({
        service_accounts: (await listServiceAccounts(deps, c.var.principal)).map(serviceAccountJson),
      }),
    )
    .post(
      '/api/v1/service-accounts/:id/api-tokens',
      createServiceAccountTokenDoc,
      validate('param', serviceAccountParams),
      requireJsonBody,
      validate('json', createApiTokenBody),
      async (c) => {
        const { expires_at, expires_in_days, allowed_networks, ...body } = c.req.valid('json');
        const expiry = { expiresAt: expires_at, expiresInDays: expires_in_days };
        const created = await createApiToken(
          deps,
          c.var.principal,
          {
            ...body,
            allowedNetworks: allowed_networks,
            expiresAt: expiryOf(expiry, epochSeconds(deps.clock)) ?? null,
          },
          c.req.valid('param').id,
        );
        return c.json(apiTokenCreatedJson(created), 201);
      },
    );
}
