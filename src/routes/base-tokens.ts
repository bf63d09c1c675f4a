import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Deps } from '../deps';
import { readCredential } from '../http/auth';
import { clientIp } from '../http/client-ip';
import { requireJsonBody, validate } from '../http/validate';
import { exchangeBody } from '../openapi/requests';
import { baseTokenSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import type { ExchangeRequest } from '../tokens/base-tokens';
import { exchangeCredential } from '../tokens/exchange';
import { baseTokenJson } from './serializers';

const exchangeDoc = routeDoc({
  summary: 'Exchange an API-Token (or an Account-Token + base_uuid) for a Base-Token',
  description:
    'Send the API-Token as `Authorization: Token <t>` or `Bearer <t>`. ' +
    'The body is optional for a single-base API-Token; it may name the base and ask for less ' +
    '(permission, scopes, table, ttl). Asking for more than the token grants is 403.',
  tags: ['Base-Tokens'],
  auth: 'api-token',
  body: true,
  errors: [403, 404, 429],
  responses: {
    201: jsonResponse('The Base-Token (a signed JWT, typ at+jwt)', baseTokenSchema, {
      base_token: 'eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9.…',
      expires_at: '2026-11-04T12:00:00Z',
      base_uuid: '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f',
      permission: 'r',
    }),
  },
});

/** The credential, read once per request. */
type ExchangeEnv = { Variables: { credential: string } };

/**
 * The exchange: an API-Token (or an Account-Token naming the base) → a Base-Token JWT. The body is
 * optional with a single-base API-Token; it may name the base and ask for less (attenuation).
 */
export function baseTokenRoutes(deps: Deps) {
  // The credential is checked for shape before the body, so an anonymous caller learns nothing from validation.
  const credentialPresent = createMiddleware<ExchangeEnv>(async (c, next) => {
    c.set('credential', readCredential(c));
    await next();
  });
  return new Hono<ExchangeEnv>().post(
    '/api/v1/base-tokens',
    exchangeDoc,
    credentialPresent,
    requireJsonBody,
    validate('json', exchangeBody),
    async (c) => {
      const { base_uuid, permission, scopes, table, ttl } = c.req.valid('json');
      const request: ExchangeRequest = {
        baseUuid: base_uuid,
        permission,
        scopes,
        table,
        ttlSeconds: ttl,
        clientIp: clientIp(c, deps.config.clientIpHeader),
      };
      return c.json(baseTokenJson(await exchangeCredential(deps, c.var.credential, request)), 201);
    },
  );
}
