import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { bearerChallenge, dpopChallenge } from './challenge.js';
import { can, canWrite, type BaseTokenClaims } from './claims.js';
import { BaseTokenError } from './errors.js';
import {
  parseProtectedResource,
  type ProtectedResource,
  type ProtectedResourceOptions,
} from './protected-resource.js';
import type { ScopeAction } from './scopes.js';
import type { BaseTokenVerifier } from './verifier.js';

export type { ProtectedResourceMetadata, ProtectedResourceOptions } from './protected-resource.js';

/**
 * Context variables set by {@link baseTokenAuth}: `baseToken`, the verified claims, and, when the
 * `protectedResource` option is set, `baseTokenResourceMetadata`, the absolute URL of this request's
 * RFC 9728 metadata (for challenges of your own).
 *
 * @example
 * ```ts
 * const app = new Hono<{ Variables: BaseTokenVariables }>();
 * ```
 */
export type BaseTokenVariables = { baseToken: BaseTokenClaims; baseTokenResourceMetadata?: string };

/**
 * Hono env for routes behind {@link baseTokenAuth}: `c.var.baseToken` is the verified claims.
 *
 * @example
 * ```ts
 * const app = new Hono<BaseTokenEnv>();
 * app.get('/me', baseTokenAuth(verifier), (c) => c.json({ sub: c.var.baseToken.sub }));
 * ```
 */
export type BaseTokenEnv = { Variables: BaseTokenVariables };

/**
 * Options of {@link baseTokenAuth}.
 *
 * @example
 * ```ts
 * const options: BaseTokenAuthOptions = { baseUuid: (c) => c.req.param('base_uuid') };
 * ```
 */
export interface BaseTokenAuthOptions {
  /** The base the request targets; `undefined` falls back to the verifier's configured audience. */
  baseUuid?: (c: Context) => string | undefined;
  /**
   * The service as an OAuth protected resource (serve its metadata with {@link protectedResourceMetadata}).
   * When set, every 401 challenge carries `resource_metadata` (and `error_description` with
   * `invalid_token`), and 403s from {@link requireWrite} and {@link requireScope} carry the `scope` needed.
   * Each `:name` in `resource` must be a route parameter of the routes this middleware guards.
   */
  protectedResource?: ProtectedResourceOptions;
  /**
   * The client's IP address, for tokens bound to networks (`cidr`); see `VerifyOptions.clientAddress`.
   * Without it such tokens are refused. Behind a proxy, read it from what your proxy sets (e.g.
   * `c.req.header('cf-connecting-ip')` on Cloudflare), never from a header the client can send itself.
   */
  clientAddress?: (c: Context) => string | undefined;
  /**
   * DPoP-bound tokens (RFC 9449). `Authorization: DPoP <token>` with a `DPoP` proof header is accepted
   * with or without this option; setting it advertises DPoP in the challenge of a request without
   * credentials, and `url` gives the URL the proof's `htu` must name. Behind a proxy or load balancer
   * that is the public URL the client called (`https://rows.example/…`), not `c.req.url`
   * (`http://10.0.0.5:3000/…`): left at the default, every proof fails with `dpop_url_mismatch`.
   */
  dpop?: DpopAuthOptions;
}

/**
 * The `dpop` option of {@link baseTokenAuth}.
 *
 * @example
 * ```ts
 * // Behind a TLS-terminating proxy: rebuild the public URL (never from client-controlled headers you do not trust).
 * const dpop: DpopAuthOptions = { url: (c) => `https://rows.example${new URL(c.req.url).pathname}` };
 * ```
 */
export interface DpopAuthOptions {
  /** The request's public URL (query may stay; it is ignored). Default `c.req.url`. */
  url?: (c: Context) => string;
}

/** Seconds a client should wait after a 503 (matches the JWKS refetch cooldown). */
const RETRY_AFTER_SECONDS = '30';
/**
 * One scheme, one space, one RFC 6750 b64token. Anchored, so a comma-joined duplicate header
 * (`Bearer A, Bearer B`, as Node joins repeated headers) can never match.
 */
const AUTHORIZATION = /^(?:bearer|token) ([A-Za-z0-9._~+/-]+=*)$/i;
/** `DPoP <token>` (RFC 9449 §7.1), as strict as the Bearer form. */
const DPOP_AUTHORIZATION = /^dpop ([A-Za-z0-9._~+/-]+=*)$/i;
/** Refusals of the proof rather than of the token: `error="invalid_dpop_proof"` (RFC 9449 §7.1). */
const PROOF_ERRORS: ReadonlySet<string> = new Set([
  'dpop_proof_missing',
  'dpop_proof_invalid',
  'dpop_key_mismatch',
  'dpop_method_mismatch',
  'dpop_url_mismatch',
  'dpop_proof_stale',
  'dpop_ath_mismatch',
  'dpop_proof_replayed',
]);

/**
 * The scope `requireWrite()` names in its challenge: the coarse read-write grant of a base (what an
 * `rw` token carries), which is what passes {@link canWrite} without per-table scopes.
 */
const WRITE_SCOPE = 'records:write';

type ErrorBody = { error: { code: string; message: string } };
const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });

/** This request's metadata URL; a `:name` the route does not have is a programming error. */
function metadataUrlOf(resource: ProtectedResource, c: Context): string {
  const url = resource.metadataUrlFor((name) => c.req.param(name));
  if (url === undefined) {
    throw new Error('baseTokenAuth(): protectedResource.resource names a route parameter this route lacks');
  }
  return url;
}

/** The 403 challenge: RFC 6750 `insufficient_scope`, with `scope` and the metadata URL when configured. */
function insufficientScope(c: Context<BaseTokenEnv>, scope: string, description: string): string {
  const resourceMetadata = c.get('baseTokenResourceMetadata');
  if (resourceMetadata === undefined) return 'Bearer error="insufficient_scope"';
  return bearerChallenge({
    error: 'insufficient_scope',
    error_description: description,
    scope,
    resource_metadata: resourceMetadata,
  });
}

/**
 * Authenticates a request with a Base-Token from `Authorization: Bearer <t>` or `Token <t>`, or a
 * DPoP-bound one from `Authorization: DPoP <t>` plus a `DPoP` proof header (RFC 9449), and
 * stores the claims in `c.var.baseToken`. A DPoP-bound token sent as Bearer is refused (401,
 * `dpop_binding_required`); a refused proof answers `WWW-Authenticate: DPoP error="invalid_dpop_proof", algs="…"`. Answers 401 (RFC 6750 challenge) for a missing,
 * malformed or rejected token and 503 + `Retry-After` when the JWKS is unreachable. With the
 * `protectedResource` option the 401 challenges point to the RFC 9728 metadata:
 * `Bearer resource_metadata="…"` without credentials,
 * `Bearer error="invalid_token", error_description="…", resource_metadata="…"` for a refused token.
 *
 * @throws TypeError (when called) if `protectedResource` is invalid.
 * @example
 * ```ts
 * app.get('/bases/:base_uuid/rows',
 *   baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid') }),
 *   (c) => c.json({ user: c.var.baseToken.sub }));
 * ```
 */
export function baseTokenAuth(verifier: BaseTokenVerifier, options: BaseTokenAuthOptions = {}) {
  const resource = options.protectedResource && parseProtectedResource(options.protectedResource);
  return createMiddleware<BaseTokenEnv>(async (c, next) => {
    const resourceMetadata = resource && metadataUrlOf(resource, c);
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    const missing = resourceMetadata
      ? bearerChallenge({ resource_metadata: resourceMetadata })
      : 'Bearer realm="tokenladder"';
    // The descriptions are fixed texts (BaseTokenError's table), never anything from the request.
    const invalid = (description: string) =>
      resourceMetadata
        ? bearerChallenge({
            error: 'invalid_token',
            error_description: description,
            resource_metadata: resourceMetadata,
          })
        : 'Bearer error="invalid_token"';

    const algs = verifier.dpopAlgorithms;
    /** A DPoP challenge for a refused DPoP request or a bound token sent as Bearer. */
    const dpopInvalid = (error: BaseTokenError) =>
      dpopChallenge({
        error: PROOF_ERRORS.has(error.code) ? 'invalid_dpop_proof' : 'invalid_token',
        ...(resourceMetadata && { error_description: error.message, resource_metadata: resourceMetadata }),
        algs,
      });

    const header = c.req.header('Authorization');
    if (header === undefined) {
      const challenge = options.dpop
        ? `${missing}, ${dpopChallenge({ algs, ...(resourceMetadata && { resource_metadata: resourceMetadata }) })}`
        : missing;
      return c.json(errorBody('token_missing', 'A Base-Token is required.'), 401, {
        'WWW-Authenticate': challenge,
      });
    }
    const dpopToken = DPOP_AUTHORIZATION.exec(header)?.[1];
    const token = dpopToken ?? AUTHORIZATION.exec(header)?.[1];
    if (token === undefined) {
      const message = 'The Authorization header is malformed.';
      return c.json(errorBody('token_malformed', message), 401, { 'WWW-Authenticate': invalid(message) });
    }
    const dpop =
      dpopToken === undefined
        ? undefined
        : { proof: c.req.header('DPoP'), method: c.req.method, url: options.dpop?.url?.(c) ?? c.req.url };
    try {
      c.set(
        'baseToken',
        await verifier.verify(token, {
          baseUuid: options.baseUuid?.(c),
          clientAddress: options.clientAddress?.(c),
          dpop,
        }),
      );
    } catch (error) {
      if (!(error instanceof BaseTokenError)) throw error;
      const body = errorBody(error.code, error.message);
      if (error.status === 503) return c.json(body, 503, { 'Retry-After': RETRY_AFTER_SECONDS });
      const challenge =
        dpop !== undefined || error.code === 'dpop_binding_required'
          ? dpopInvalid(error)
          : invalid(error.message);
      return c.json(body, 401, { 'WWW-Authenticate': challenge });
    }
    if (resourceMetadata) c.set('baseTokenResourceMetadata', resourceMetadata);
    await next();
  });
}

/**
 * Lets only tokens with write permission (`rw` or `admin`) through; others get 403
 * `insufficient_scope`. Must run after {@link baseTokenAuth}. With its `protectedResource` option the
 * challenge names `scope="records:write"`: what `canWrite` checks (create, update and delete on every table).
 *
 * @example
 * ```ts
 * app.post('/bases/:base_uuid/rows', baseTokenAuth(verifier, opts), requireWrite(), handler);
 * ```
 */
export function requireWrite() {
  return createMiddleware<BaseTokenEnv>(async (c, next) => {
    const claims: BaseTokenClaims | undefined = c.get('baseToken');
    if (claims === undefined) throw new Error('requireWrite() must run after baseTokenAuth()');
    if (!canWrite(claims)) {
      const message = 'This token cannot write to this base.';
      return c.json(errorBody('insufficient_scope', message), 403, {
        'WWW-Authenticate': insufficientScope(c, WRITE_SCOPE, message),
      });
    }
    await next();
  });
}

/**
 * Lets a request through only if the token allows `action` (see {@link can}), for the table named
 * by `options.table(c)` when given; others get 403 `insufficient_scope`. Must run after {@link baseTokenAuth}.
 * With its `protectedResource` option the challenge names the action as the scope (`scope="records:update"`).
 *
 * @example
 * ```ts
 * app.patch('/bases/:base_uuid/tables/:table/rows/:id', auth,
 *   requireScope('records:update', { table: (c) => c.req.param('table') }), handler);
 * ```
 */
export function requireScope(
  action: ScopeAction,
  options: { table?: (c: Context) => string | undefined } = {},
) {
  return createMiddleware<BaseTokenEnv>(async (c, next) => {
    const claims: BaseTokenClaims | undefined = c.get('baseToken');
    if (claims === undefined) throw new Error('requireScope() must run after baseTokenAuth()');
    if (!can(claims, action, { table: options.table?.(c) })) {
      const message = `This token does not allow ${action}.`;
      return c.json(errorBody('insufficient_scope', message), 403, {
        'WWW-Authenticate': insufficientScope(c, action, message),
      });
    }
    await next();
  });
}

/** Public metadata: any origin may read it, and preflight it (MCP clients send `MCP-Protocol-Version`). */
const METADATA_CORS = { 'Access-Control-Allow-Origin': '*' } as const;
const METADATA_PREFLIGHT = {
  ...METADATA_CORS,
  'Access-Control-Allow-Methods': 'GET, HEAD',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Max-Age': '86400',
} as const;
/** Metadata changes when the operator reconfigures the service: an hour of caching is plenty. */
const METADATA_CACHE_CONTROL = 'public, max-age=3600';

/**
 * A Hono app serving the RFC 9728 protected-resource metadata at
 * `/.well-known/oauth-protected-resource`, with the resource's path inserted after it (RFC 9728 §3.1:
 * `https://rows.example/bases/:base_uuid` → `/.well-known/oauth-protected-resource/bases/:base_uuid`).
 * Public: `Access-Control-Allow-Origin: *`, cacheable for an hour. Mount it at the root of the
 * service's origin and pass the same options to {@link baseTokenAuth}.
 *
 * @throws TypeError (when called) if the options are invalid.
 * @example
 * ```ts
 * const protectedResource = {
 *   resource: 'https://rows.example/bases/:base_uuid',
 *   authorizationServers: ['https://auth.example'],
 * };
 * const app = new Hono<BaseTokenEnv>()
 *   .route('/', protectedResourceMetadata(protectedResource))
 *   .get('/bases/:base_uuid/rows', baseTokenAuth(verifier, { baseUuid, protectedResource }), handler);
 * ```
 */
export function protectedResourceMetadata(options: ProtectedResourceOptions): Hono {
  const resource = parseProtectedResource(options);
  return new Hono()
    .get(resource.metadataPath, (c) => {
      const identifier = resource.resourceFor((name) => c.req.param(name));
      if (identifier === undefined) return c.notFound();
      return c.json(resource.document(identifier), 200, {
        ...METADATA_CORS,
        'Cache-Control': METADATA_CACHE_CONTROL,
      });
    })
    .options(resource.metadataPath, (c) => c.body(null, 204, METADATA_PREFLIGHT));
}
