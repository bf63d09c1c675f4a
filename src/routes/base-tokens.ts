import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticateAccountToken } from '../accounts/account-tokens';
import { isoTime } from '../clock';
import type { Deps } from '../deps';
import { badRequest } from '../errors';
import { readCredential } from '../http/auth';
import { requireJsonBody, validate } from '../http/validate';
import { exchangeAccountToken, exchangeApiToken, type ExchangeRequest, type IssuedBaseToken } from '../tokens/base-tokens';
import { parseOpaqueToken } from '../tokens/opaque';
import { exchangeSchema } from './api-token-schemas';

/** The native answer to an exchange. */
export const baseTokenResponse = ({ jwt, expiresAt, grant, permission, scp }: IssuedBaseToken) => ({
  base_token: jwt,
  expires_at: isoTime(expiresAt),
  base_uuid: grant.baseUuid,
  permission,
  ...(scp && { scopes: scp }),
});

/**
 * The exchange: an API-Token (or an Account-Token naming the base) → a Base-Token JWT. The body is
 * optional with a single-base API-Token; it may name the base and ask for less (attenuation).
 */
export function baseTokenRoutes(deps: Deps) {
  // The credential is checked for shape before the body, so an anonymous caller learns nothing from validation.
  const credentialPresent = createMiddleware(async (c, next) => {
    readCredential(c);
    await next();
  });
  return new Hono().post('/api/v1/base-tokens', credentialPresent, requireJsonBody, validate('json', exchangeSchema), async (c) => {
    const token = readCredential(c);
    const { base_uuid, permission, scopes, table, ttl } = c.req.valid('json');
    const request: ExchangeRequest = { baseUuid: base_uuid, permission, scopes, table, ttlSeconds: ttl };
    let issued: IssuedBaseToken;
    if (parseOpaqueToken(token)?.kind === 'account') {
      const principal = await authenticateAccountToken(deps, token);
      if (!base_uuid) throw badRequest('base_uuid: required when exchanging an Account-Token');
      issued = await exchangeAccountToken(deps, principal, base_uuid, request);
    } else {
      issued = await exchangeApiToken(deps, token, request);
    }
    return c.json(baseTokenResponse(issued), 201);
  });
}
