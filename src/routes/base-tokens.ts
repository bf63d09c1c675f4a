import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { authenticateAccountToken } from '../accounts/account-tokens';
import { isoTime } from '../clock';
import type { Deps } from '../deps';
import { badRequest } from '../errors';
import { readCredential } from '../http/auth';
import { requireJsonBody, uuidParam, validate } from '../http/validate';
import { exchangeAccountToken, exchangeApiToken } from '../tokens/base-tokens';
import { parseOpaqueToken } from '../tokens/opaque';

/**
 * The exchange: an API-Token (or an Account-Token naming the base) → a Base-Token JWT.
 * The body is optional with an API-Token; if it names a base, it must be the token's.
 */
export function baseTokenRoutes(deps: Deps) {
  // The credential is checked for shape before the body, so an anonymous caller learns nothing from validation.
  const credentialPresent = createMiddleware(async (c, next) => {
    readCredential(c);
    await next();
  });
  return new Hono().post(
    '/api/v1/base-tokens',
    credentialPresent,
    requireJsonBody,
    validate('json', z.strictObject({ base_uuid: uuidParam.optional() })),
    async (c) => {
      const token = readCredential(c);
      const { base_uuid } = c.req.valid('json');
      let issued;
      if (parseOpaqueToken(token)?.kind === 'account') {
        const principal = await authenticateAccountToken(deps, token);
        if (!base_uuid) throw badRequest('base_uuid: required when exchanging an Account-Token');
        issued = await exchangeAccountToken(deps, principal, base_uuid);
      } else {
        issued = await exchangeApiToken(deps, token, base_uuid);
      }
      const { jwt, expiresAt, grant } = issued;
      return c.json({ base_token: jwt, expires_at: isoTime(expiresAt), base_uuid: grant.baseUuid, permission: grant.permission }, 201);
    },
  );
}
