import { Hono } from 'hono';
import { z } from 'zod';
import { listAccountTokens, login, revokeAccountToken } from '../accounts/account-tokens';
import { changePassword } from '../accounts/password-change';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { clientIp } from '../http/client-ip';
import { displayName, emailAddress, idParam, requireJsonBody, validate } from '../http/validate';
import { accountTokenCreatedSchema, accountTokenSchema, listOf, meSchema } from '../openapi/responses';
import { emptyResponse, jsonResponse, routeDoc } from '../openapi/route-doc';
import { accountTokenCreatedJson, accountTokenJson } from './serializers';

const loginBody = z
  .strictObject({
    email: emailAddress,
    password: z.string().min(1, 'must not be empty'),
    name: displayName.optional(),
    /** Chosen expiry (NocoDB's presets 7, 30, 60, 90, 365 or any); never beyond the configured maximum age. */
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .meta({
    examples: [
      {
        email: 'ada@example.com',
        password: 'correct horse battery staple',
        name: 'laptop',
        expires_in_days: 90,
      },
    ],
  });

const passwordChangeBody = z
  .strictObject({
    current_password: z.string().min(1, 'must not be empty'),
    new_password: z.string(),
    /** Keep your other Account-Tokens (by default they are revoked with the change). */
    keep_other_tokens: z.boolean().optional(),
  })
  .meta({
    examples: [
      {
        current_password: 'correct horse battery staple',
        new_password: 'a much longer and newer passphrase',
      },
    ],
  });

const passwordChangedSchema = z
  .strictObject({ revoked_account_tokens: z.number().int() })
  .meta({ id: 'PasswordChanged' });

const tags: ['Account-Tokens'] = ['Account-Tokens'];

const loginDoc = routeDoc({
  summary: 'Sign in: email + password → Account-Token',
  description:
    'The secret `token` is shown only in this response. Wrong email or password: 401 invalid_credentials.',
  tags,
  auth: 'none',
  body: true,
  errors: [401, 429],
  responses: {
    201: jsonResponse('The new Account-Token with its secret', accountTokenCreatedSchema, {
      id: 'q3k7v2mz5x4w6yb2',
      token: 'tl_acc_q3k7v2mz5x4w6yb2_…',
      name: 'laptop',
      created_at: '2026-11-01T12:00:00Z',
      expires_at: '2027-01-30T12:00:00Z',
      last_used_at: null,
    }),
  },
});

const listAccountTokensDoc = routeDoc({
  summary: 'List your Account-Tokens (no secrets)',
  tags,
  auth: 'account',
  responses: {
    200: jsonResponse(
      'Your live Account-Tokens; `current` marks the one used',
      listOf('account_tokens', accountTokenSchema),
    ),
  },
});

const revokeAccountTokenDoc = routeDoc({
  summary: 'Revoke one of your Account-Tokens',
  tags,
  auth: 'account',
  errors: [404],
  responses: { 204: emptyResponse('Revoked; it stops working at once') },
});

const meDoc = routeDoc({
  summary: 'Who you are',
  tags,
  auth: 'account',
  responses: { 200: jsonResponse('The signed-in user', meSchema) },
});

const changePasswordDoc = routeDoc({
  summary: 'Change your password',
  description:
    'Needs the current password (wrong: 401 invalid_credentials, counted like a failed sign-in; too many: 429). ' +
    'The new one must meet the password policy (400). ' +
    'Your other Account-Tokens are revoked unless `keep_other_tokens` is true; the one making the call keeps working.',
  tags,
  auth: 'account',
  body: true,
  errors: [409, 429],
  responses: {
    200: jsonResponse('The password was changed', passwordChangedSchema, { revoked_account_tokens: 2 }),
  },
});

const tokenParams = z.object({ id: idParam });

/**
 * Account-Tokens: sign in with email + password, list and revoke one's own; who am I; change one's
 * password. Sign-in is public, so each other route names its authentication.
 */
export function accountTokenRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .post('/api/v1/account-tokens', loginDoc, requireJsonBody, validate('json', loginBody), async (c) => {
      const { expires_in_days, ...credentials } = c.req.valid('json');
      const created = await login(deps, {
        ...credentials,
        expiresInDays: expires_in_days,
        clientIp: clientIp(c, deps.config.clientIpHeader),
      });
      return c.json(accountTokenCreatedJson(created), 201);
    })
    .get('/api/v1/account-tokens', listAccountTokensDoc, auth, async (c) =>
      c.json({ account_tokens: (await listAccountTokens(deps, c.var.principal)).map(accountTokenJson) }),
    )
    .delete(
      '/api/v1/account-tokens/:id',
      revokeAccountTokenDoc,
      auth,
      validate('param', tokenParams),
      async (c) => {
        await revokeAccountToken(deps, c.var.principal, c.req.valid('param').id);
        return c.body(null, 204);
      },
    )
    .get('/api/v1/me', meDoc, auth, (c) => {
      const { userId, email, name, role, teamId, tokenId } = c.var.principal;
      return c.json({ id: userId, email, name, role, team_id: teamId, account_token_id: tokenId });
    })
    .post(
      '/api/v1/me/password',
      changePasswordDoc,
      auth,
      requireJsonBody,
      validate('json', passwordChangeBody),
      async (c) => {
        const body = c.req.valid('json');
        const change = {
          currentPassword: body.current_password,
          newPassword: body.new_password,
          keepOtherTokens: body.keep_other_tokens,
        };
        const { revokedAccountTokens } = await changePassword(deps, c.var.principal, change);
        return c.json({ revoked_account_tokens: revokedAccountTokens });
      },
    );
}
