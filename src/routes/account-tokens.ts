import { Hono } from 'hono';
import { z } from 'zod';
import { listAccountTokens, login, revokeAccountToken } from '../accounts/account-tokens';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { displayName, emailAddress, idParam, requireJsonBody, validate } from '../http/validate';

const loginSchema = z.strictObject({
  email: emailAddress,
  password: z.string().min(1, 'must not be empty'),
  name: displayName.optional(),
  /** Chosen expiry (NocoDB's presets 7, 30, 60, 90, 365 or any); never beyond the configured maximum age. */
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

/** Account-Tokens: sign in with email + password, list and revoke one's own; who am I. */
export function accountTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .post('/api/v1/account-tokens', requireJsonBody, validate('json', loginSchema), async (c) => {
      const { expires_in_days, ...credentials } = c.req.valid('json');
      return c.json(await login(deps, { ...credentials, expiresInDays: expires_in_days }), 201);
    })
    .get('/api/v1/account-tokens', auth, async (c) =>
      c.json({ account_tokens: await listAccountTokens(deps, c.var.principal) }),
    )
    .delete('/api/v1/account-tokens/:id', auth, validate('param', z.object({ id: idParam })), async (c) => {
      await revokeAccountToken(deps, c.var.principal, c.req.valid('param').id);
      return c.body(null, 204);
    })
    .get('/api/v1/me', auth, (c) => {
      const { userId, email, name, role, teamId, tokenId } = c.var.principal;
      return c.json({ id: userId, email, name, role, team_id: teamId, account_token_id: tokenId });
    });
}
