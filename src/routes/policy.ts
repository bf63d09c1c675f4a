import { Hono } from 'hono';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { requireJsonBody, validate } from '../http/validate';
import { tokenPolicyResponseSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { getTokenPolicy, setTokenPolicy, tokenPolicySchema } from '../tokens/policy';

const policyPatchBody = tokenPolicySchema
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
    .get(path, getPolicyDoc, async (c) => c.json(await getTokenPolicy(deps)))
    .put(path, setPolicyDoc, requireJsonBody, validate('json', policyPatchBody), async (c) =>
      c.json(await setTokenPolicy(deps, c.var.principal, c.req.valid('json'))),
    );
}
