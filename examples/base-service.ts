/**
 * A minimal downstream "base service" that trusts tokenladder Base-Tokens.
 *
 * Run: `TOKENLADDER_URL=http://localhost:8787 PORT=8788 npx tsx examples/base-service.ts`
 * (it follows tokenladder's revocation feed: its push stream where the server offers one, so revoked
 * tokens stop here within about a second; else it polls, within the poll interval). It is an OAuth
 * protected resource (RFC 9728): each base is the resource `<BASE_SERVICE_URL>/bases/<uuid>`
 * (default `http://localhost:<PORT>`), its metadata names tokenladder as the authorization server,
 * and every 401 points to that metadata. Set tokenladder's
 * `TOKENLADDER_OAUTH_RESOURCE_URL=<BASE_SERVICE_URL>/bases/{base_uuid}` so `POST /oauth/token`
 * accepts that identifier as `resource`.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createBaseTokenVerifier, createRevocationList, type BaseTokenVerifier } from '../src/verify';
import {
  baseTokenAuth,
  protectedResourceMetadata,
  requireWrite,
  type BaseTokenEnv,
  type ProtectedResourceOptions,
} from '../src/verify/hono';

/** Options of {@link createBaseService}. */
export interface BaseServiceOptions {
  verifier: BaseTokenVerifier;
  /**
   * This service as an OAuth protected resource: its public URL and tokenladder's issuer. With it the
   * app serves `/.well-known/oauth-protected-resource/bases/:base_uuid` and its 401/403 challenges
   * carry `resource_metadata` (and `scope`); without it they are bare RFC 6750 challenges.
   */
  oauth?: { url: string; issuer: string };
}

/**
 * The RFC 9728 description of the service: every base its own resource, `<url>/bases/<uuid>`, whose
 * tokens come from tokenladder. `param` names the route parameter that holds the base.
 *
 * @example
 * ```ts
 * baseResource({ url: 'http://localhost:8788', issuer: 'http://localhost:8787' });
 * // { resource: 'http://localhost:8788/bases/:base_uuid', authorizationServers: ['http://localhost:8787'], … }
 * ```
 */
export function baseResource(
  { url, issuer }: { url: string; issuer: string },
  param = 'base_uuid',
): ProtectedResourceOptions {
  return {
    resource: `${url.replace(/\/+$/, '')}/bases/:${param}`,
    authorizationServers: [issuer],
    // What these routes need: reading rows, and writing them (what requireWrite's challenge names).
    scopesSupported: ['records:read', 'records:write'],
    resourceName: 'tokenladder example base service',
  };
}

/**
 * Builds the example app: `GET /bases/:base_uuid/rows` for any valid token of that base,
 * `POST /bases/:base_uuid/rows` (JSON body, 201) for `rw`/`admin` tokens, and SeaTable's
 * `GET /api/v1/dtables/:dtable_uuid/metadata/` for SeaTable clients. Rows live in memory,
 * per app instance. With `oauth`, also the RFC 9728 metadata of each base.
 *
 * @example
 * ```ts
 * const app = createBaseService({ verifier, oauth: { url: 'http://localhost:8788', issuer } });
 * const res = await app.request(`/bases/${uuid}/rows`, { headers: { Authorization: `Bearer ${token}` } });
 * ```
 */
export function createBaseService({ verifier, oauth }: BaseServiceOptions) {
  const rowsByBase = new Map<string, unknown[]>();
  const protectedResource = oauth && baseResource(oauth);
  // The audience comes from the route, so a token for base A never opens base B.
  const auth = baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid'), protectedResource });

  // SeaTable's clients call `{dtable_server}api/v1/dtables/{dtable_uuid}/…` with `Authorization: Token <jwt>`.
  // The same base, so the same resource: its challenges name `<url>/bases/<dtable_uuid>`'s metadata.
  const seatableAuth = baseTokenAuth(verifier, {
    baseUuid: (c) => c.req.param('dtable_uuid'),
    protectedResource: oauth && baseResource(oauth, 'dtable_uuid'),
  });

  const app = new Hono<BaseTokenEnv>();
  if (protectedResource) app.route('/', protectedResourceMetadata(protectedResource));
  return app
    .get('/api/v1/dtables/:dtable_uuid/metadata/', seatableAuth, (c) => {
      const { base_uuid, permission } = c.var.baseToken;
      return c.json({ metadata: { base_uuid, permission, tables: [] } });
    })
    .get('/bases/:base_uuid/rows', auth, (c) => {
      return c.json({ rows: rowsByBase.get(c.var.baseToken.base_uuid) ?? [] });
    })
    .post('/bases/:base_uuid/rows', auth, requireWrite(), bodyLimit({ maxSize: 64 * 1024 }), async (c) => {
      if (!/^application\/json\s*(;|$)/i.test(c.req.header('Content-Type') ?? '')) {
        return c.json({ error: { code: 'unsupported_media_type', message: 'Send application/json.' } }, 415);
      }
      let row: unknown;
      try {
        row = await c.req.json();
      } catch {
        return c.json({ error: { code: 'invalid_json', message: 'The body is not valid JSON.' } }, 400);
      }
      // Key by the verified claim, not the raw route param (the two are equal after verification).
      const baseUuid = c.var.baseToken.base_uuid;
      const rows = rowsByBase.get(baseUuid) ?? [];
      rows.push(row);
      rowsByBase.set(baseUuid, rows);
      return c.json({ row }, 201);
    });
}

async function main(): Promise<void> {
  const { serve } = await import('@hono/node-server');
  const issuer = (process.env.TOKENLADDER_URL ?? 'http://localhost:8787').replace(/\/+$/, '');
  const port = Number(process.env.PORT ?? 8788);
  // Where clients reach this service: the resource identifiers its OAuth metadata and challenges name.
  const url = (process.env.BASE_SERVICE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  // Revoked API-Tokens' Base-Tokens stop here within about a second on the stream, else within one poll
  // (the feed advises the interval; REVOCATION_POLL overrides it).
  const revocations = createRevocationList({
    url: `${issuer}/api/v1/revocations`,
    intervalSeconds: process.env.REVOCATION_POLL ? Number(process.env.REVOCATION_POLL) : undefined,
    onError: (error) => console.error(`revocation feed: ${(error as Error).message}`),
  });
  await revocations.start();
  const verifier = createBaseTokenVerifier({
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    revocations,
  });
  const app = createBaseService({ verifier, oauth: { url, issuer } });
  serve({ fetch: app.fetch, port }, (info) => {
    console.log(
      `base service on http://localhost:${info.port} (resources ${url}/bases/<uuid>, issuer ${issuer})`,
    );
  });
}

// Only when run directly; importing createBaseService must not start a server or load Node modules.
const entry = globalThis.process?.argv?.[1];
if (entry !== undefined) {
  const { pathToFileURL } = await import('node:url');
  if (import.meta.url === pathToFileURL(entry).href) await main();
}
