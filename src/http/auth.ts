import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticateAccountToken } from '../accounts/account-tokens';
import type { Principal } from '../accounts/principal';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { clientIp } from './client-ip';

export type AppEnv = {
  Variables: {
    principal: Principal;
    /**
     * A token presented elsewhere than in Authorization (OAuth's client_secret or subject_token), set
     * by the route, so a refusal of it is recorded like one of a header token (src/http/audit-failures.ts).
     */
    presentedToken: string | undefined;
  };
};

const MAX_TOKEN_LENGTH = 4096;
// One scheme, one space, one credential (RFC 9110 §11.1: scheme case-insensitive). A comma-joined
// duplicate header ("Bearer a, Bearer b") or trailing junk does not match.
const AUTHORIZATION = /^([A-Za-z]+) (\S+)$/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/** `Authorization: <scheme> <credential>` with the scheme lower-cased, or null if it is not that shape. */
function authorizationOf(header: string): { scheme: string; credential: string } | null {
  const match = AUTHORIZATION.exec(header);
  return match ? { scheme: match[1]!.toLowerCase(), credential: match[2]! } : null;
}

type Presented = { token: string } | { problem: 'missing' | 'ambiguous' | 'malformed' };

/**
 * The one parser of a presented token: `Authorization: Bearer <t>`, `Authorization: Token <t>`
 * (SeaTable, Baserow) or `xc-token: <t>` (NocoDB), one header only, a token68 of bounded length.
 * Tokens in query strings are never read.
 */
function presented(c: Context): Presented {
  const authorization = c.req.header('authorization');
  const xcToken = c.req.header('xc-token');
  if (authorization === undefined && xcToken === undefined) return { problem: 'missing' };
  if (authorization !== undefined && xcToken !== undefined) return { problem: 'ambiguous' };
  let token: string | undefined;
  if (authorization !== undefined) {
    const parsed = authorizationOf(authorization);
    if (parsed && (parsed.scheme === 'bearer' || parsed.scheme === 'token')) token = parsed.credential;
  } else token = xcToken;
  if (token === undefined || !TOKEN68.test(token) || token.length > MAX_TOKEN_LENGTH)
    return { problem: 'malformed' };
  return { token };
}

/**
 * The credential of a request (see `presented`). Missing → 401; present but malformed or
 * ambiguous → 400.
 */
export function readCredential(c: Context): string {
  const credential = presented(c);
  if ('token' in credential) return credential.token;
  if (credential.problem === 'missing')
    throw new AppError('missing_credentials', 'send a token: Authorization: Bearer <token>');
  if (credential.problem === 'ambiguous')
    throw new AppError('invalid_authorization_header', 'send the token in one header only');
  throw new AppError(
    'invalid_authorization_header',
    'malformed Authorization header: expected "Bearer <token>" or "Token <token>"',
  );
}

/** The token a request presents, parsed as readCredential does; null when there is none or it is malformed. */
export function presentedCredential(c: Context): string | null {
  const credential = presented(c);
  return 'token' in credential ? credential.token : null;
}

/**
 * The credential of `Authorization: Bearer <credential>`, any printable characters (an operator's
 * shared secret, such as the revocation feed's, need not be a token68); null otherwise.
 */
export function bearerCredential(c: Context): string | null {
  const parsed = authorizationOf(c.req.header('authorization') ?? '');
  return parsed?.scheme === 'bearer' ? parsed.credential : null;
}

/** Requires an Account-Token and exposes the caller as `c.var.principal`. */
export const requireAccount = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticateAccountToken(deps, readCredential(c));
    c.set('principal', { ...principal, clientIp: clientIp(c, deps.config.clientIpHeader) });
    await next();
  });
