import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { can, canWrite, type BaseTokenClaims } from './claims.js';
import type { ScopeAction } from './scopes.js';
import { BaseTokenError } from './errors.js';
import type { BaseTokenVerifier } from './verifier.js';

/**
 * Context variables set by {@link baseTokenAuth}.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Variables: BaseTokenVariables }>();
 * ```
 */
export type BaseTokenVariables = { baseToken: BaseTokenClaims };

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
}

/** Seconds a client should wait after a 503 (matches the JWKS refetch cooldown). */
const RETRY_AFTER_SECONDS = '30';
/**
 * One scheme, one space, one RFC 6750 b64token. Anchored, so a comma-joined duplicate header
 * (`Bearer A, Bearer B`, as Node joins repeated headers) can never match.
 */
const AUTHORIZATION = /^(?:bearer|token) ([A-Za-z0-9._~+/-]+=*)$/i;

type ErrorBody = { error: { code: string; message: string } };
const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });

/**
 * Authenticates a request with a Base-Token from `Authorization: Bearer <t>` or `Token <t>` and
 * stores the claims in `c.var.baseToken`. Answers 401 (RFC 6750 challenge) for a missing,
 * malformed or rejected token and 503 + `Retry-After` when the JWKS is unreachable.
 *
 * @example
 * ```ts
 * app.get('/bases/:base_uuid/rows',
 *   baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid') }),
 *   (c) => c.json({ user: c.var.baseToken.sub }));
 * ```
 */
export function baseTokenAuth(verifier: BaseTokenVerifier, options: BaseTokenAuthOptions = {}) {
  return createMiddleware<BaseTokenEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    if (header === undefined) {
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      return c.json(errorBody('token_missing', 'A Base-Token is required.'), 401, {
        'WWW-Authenticate': 'Bearer realm="tokenladder"',
      });
    }
    const token = AUTHORIZATION.exec(header)?.[1];
    if (token === undefined) {
      return c.json(errorBody('token_malformed', 'The Authorization header is malformed.'), 401, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    try {
      c.set('baseToken', await verifier.verify(token, { baseUuid: options.baseUuid?.(c) }));
    } catch (error) {
      if (!(error instanceof BaseTokenError)) throw error;
      const body = errorBody(error.code, error.message);
      if (error.status === 503) return c.json(body, 503, { 'Retry-After': RETRY_AFTER_SECONDS });
      return c.json(body, 401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    await next();
  });
}

/**
 * Lets only tokens with write permission (`rw` or `admin`) through; others get 403
 * `insufficient_scope`. Must run after {@link baseTokenAuth}.
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
      return c.json(errorBody('insufficient_scope', 'This token cannot write to this base.'), 403, {
        'WWW-Authenticate': 'Bearer error="insufficient_scope"',
      });
    }
    await next();
  });
}

/**
 * Lets a request through only if the token allows `action` (see {@link can}), for the table named
 * by `options.table(c)` when given; others get 403 `insufficient_scope`. Must run after {@link baseTokenAuth}.
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
      return c.json(errorBody('insufficient_scope', `This token does not allow ${action}.`), 403, {
        'WWW-Authenticate': 'Bearer error="insufficient_scope"',
      });
    }
    await next();
  });
}
