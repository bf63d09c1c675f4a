import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { requireJsonBody, validate } from '../http/validate';
import { tokenPolicyResponseSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { getTokenPolicy, setTokenPolicy } from '../tokens/policy';
import { tokenPolicyJson } from './serializers';

const policyPatchBody = z
  .strictObject({
    max_lifetime_days: z.number().int().min(1).max(3650).nullable(),
    require_expiry: z.boolean(),
    forbid_all_bases_scope: z.boolean(),
    service_account_max_permission: z.enum(['r', 'rw']),
    network_bound_base_token_ttl_seconds: z.number().int().min(60).max(31_536_000).nullable(),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'send at least one field');

const getPolicyDoc = routeDoc({
  summary: 'The instance-wide token policy',
  tags: ['Token policy'],
  auth: 'account',
  responses: { 200: jsonResponse('The policy', tokenPolicyResponseSchema) },
});

const setPolicyDoc = routeDoc({
  summary: 'Change the token policy (system admins)',
  tags: ['Token policy'],
  auth: 'account',
  body: true,
  errors: [403],
  responses: { 200: jsonResponse('The policy', tokenPolicyResponseSchema) },
});

/** The instance-wide token policy: read by anyone signed in (so clients can show the limits), set by system admins. */
export function policyRoutes(deps: Deps) {
  const path = '/api/v1/token-policy';
  return new Hono<AppEnv>()
    .use(path, requireAccount(deps))
    .get(path, getPolicyDoc, async (c) => c.json(tokenPolicyJson(await getTokenPolicy(deps))))
    .put(path, setPolicyDoc, requireJsonBody, validate('json', policyPatchBody), async (c) => {
      const body = c.req.valid('json');
      const patch = {
        maxLifetimeDays: body.max_lifetime_days,
        requireExpiry: body.require_expiry,
        forbidAllBasesScope: body.forbid_all_bases_scope,
        serviceAccountMaxPermission: body.service_account_max_permission,
        networkBoundBaseTokenTtlSeconds: body.network_bound_base_token_ttl_seconds,
      };
      return c.json(tokenPolicyJson(await setTokenPolicy(deps, c.var.principal, patch)));
    });
}
