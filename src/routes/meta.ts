import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../deps';
import type { SigningAlg } from '../keys/signing-keys';
import { jwksSchema, serverInfoSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { BASE_AUDIENCE_PREFIX } from '../verify/claims';

const pingDoc = routeDoc({
  summary: 'Liveness',
  tags: ['Meta'],
  auth: 'none',
  responses: { 200: jsonResponse('Always "pong"', z.literal('pong')) },
});

const serverInfoDoc = routeDoc({
  summary: 'Server facts: version, issuer, JWKS address, token lifetimes',
  tags: ['Meta'],
  auth: 'none',
  responses: { 200: jsonResponse('Server facts', serverInfoSchema) },
});

const jwksDoc = routeDoc({
  summary: 'Public signing keys (JWKS) for verifying Base-Tokens',
  tags: ['Meta'],
  auth: 'none',
  responses: { 200: jsonResponse('The published keys; cacheable', jwksSchema) },
});

/** Unauthenticated discovery: liveness, server facts, and the public keys verifiers need. */
export function metaRoutes(deps: Deps) {
  const { config } = deps;
  const serverInfo = (algorithm: SigningAlg) => ({
    name: 'tokenladder' as const,
    version: config.version,
    issuer: config.issuer,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    base_token: {
      algorithm,
      type: 'at+jwt' as const,
      lifetime_seconds: config.baseTokenTtlSeconds,
      audience_prefix: BASE_AUDIENCE_PREFIX,
    },
    account_token: { max_age_seconds: config.accountTokenMaxAgeSeconds },
  });
  return (
    new Hono()
      .get('/api/v1/ping', pingDoc, (c) => c.json('pong'))
      // The key that signs now; during a rotation the JWKS names each published key's own alg.
      .get('/api/v1/server-info', serverInfoDoc, async (c) =>
        c.json(serverInfo((await deps.keys.current()).alg as SigningAlg)),
      )
      .get('/.well-known/jwks.json', jwksDoc, async (c) => {
        // 200 directly (jose refuses redirects), cacheable, readable from any origin: it holds only public keys.
        c.header('Cache-Control', `public, max-age=${config.jwksMaxAgeSeconds}`);
        c.header('Access-Control-Allow-Origin', '*');
        return c.json(await deps.keys.jwks());
      })
  );
}
