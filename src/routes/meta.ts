import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../deps';
import { describe, json } from '../openapi/describe';
import { jwksSchema, serverInfoSchema } from '../openapi/schemas';

/** Unauthenticated discovery: liveness, server facts, and the public keys verifiers need. */
export function metaRoutes(deps: Deps) {
  const { config } = deps;
  return new Hono()
    .get(
      '/api/v1/ping',
      describe({
        summary: 'Liveness',
        tags: ['Meta'],
        auth: 'none',
        responses: { 200: json('Always "pong"', z.literal('pong')) },
      }),
      (c) => c.json('pong'),
    )
    .get(
      '/api/v1/server-info',
      describe({
        summary: 'Server facts: version, issuer, JWKS address, token lifetimes',
        tags: ['Meta'],
        auth: 'none',
        responses: { 200: json('Server facts', serverInfoSchema) },
      }),
      (c) =>
        c.json({
          name: 'tokenladder',
          version: config.version,
          issuer: config.issuer,
          jwks_uri: `${config.issuer}/.well-known/jwks.json`,
          base_token: {
            algorithm: 'EdDSA',
            type: 'at+jwt',
            lifetime_seconds: config.baseTokenTtlSeconds,
            audience_prefix: 'urn:tokenladder:base:',
          },
          account_token: { max_age_seconds: config.accountTokenMaxAgeSeconds },
        }),
    )
    .get(
      '/.well-known/jwks.json',
      describe({
        summary: 'Public signing keys (JWKS) for verifying Base-Tokens',
        tags: ['Meta'],
        auth: 'none',
        responses: { 200: json('The published keys; cacheable', jwksSchema) },
      }),
      async (c) => {
        // 200 directly (jose refuses redirects), cacheable, readable from any origin: it holds only public keys.
        c.header('Cache-Control', `public, max-age=${config.jwksMaxAgeSeconds}`);
        c.header('Access-Control-Allow-Origin', '*');
        return c.json(await deps.keys.jwks());
      },
    );
}
