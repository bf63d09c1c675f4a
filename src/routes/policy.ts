import { Hono } from 'hono';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { requireJsonBody, validate } from '../http/validate';
import { getTokenPolicy, setTokenPolicy, tokenPolicySchema } from '../tokens/policy';

/** The instance-wide token policy: read by anyone signed in (so clients can show the limits), set by system admins. */
export function policyRoutes(deps: Deps) {
  const path = '/api/v1/token-policy';
  return new Hono<AppEnv>()
    .use(path, requireAccount(deps))
    .get(path, async (c) => c.json(await getTokenPolicy(deps)))
    .put(path, requireJsonBody, validate('json', tokenPolicySchema.partial().refine((patch) => Object.keys(patch).length > 0, 'send at least one field')), async (c) =>
      c.json(await setTokenPolicy(deps, c.var.principal, c.req.valid('json'))),
    );
}
