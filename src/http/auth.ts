import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticateAccountToken, type Principal } from '../accounts/account-tokens';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { clientIp } from './client-ip';

export type AppEnv = { Variables: { principal: Principal } };

const MAX_TOKEN_LENGTH = 4096;
// One scheme, one space, one token68 (RFC 9110 §11.1: scheme case-insensitive). A comma-joined
// duplicate header ("Bearer a, Bearer b") or trailing junk does not match.
const AUTHORIZATION = /^(?:bearer|token) ([A-Za-z0-9._~+/-]+=*)$/i;
const BARE_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * The credential of a request: `Authorization: Bearer <t>`, `Authorization: Token <t>` (SeaTable,
 * Baserow) or `xc-token: <t>` (NocoDB). Missing → 401; present but malformed or ambiguous → 400.
 * Tokens in query strings are never read.
 */
export function readCredential(c: Context): string {
  const authorization = c.req.header('authorization');
  const xcToken = c.req.header('xc-token');
  if (authorization === undefined && xcToken === undefined) {
    throw new AppError('missing_credentials', 'send a token: Authorization: Bearer <token>');
  }
  if (authorization !== undefined && xcToken !== undefined) {
    throw new AppError('invalid_authorization_header', 'send the token in one header only');
  }
  const token =
    authorization !== undefined ? AUTHORIZATION.exec(authorization)?.[1] : BARE_TOKEN.exec(xcToken!)?.[0];
  if (!token || token.length > MAX_TOKEN_LENGTH) {
    throw new AppError(
      'invalid_authorization_header',
      'malformed Authorization header: expected "Bearer <token>" or "Token <token>"',
    );
  }
  return token;
}

/** Requires an Account-Token and exposes the caller as `c.var.principal`. */
export const requireAccount = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticateAccountToken(deps, readCredential(c));
    c.set('principal', { ...principal, clientIp: clientIp(c, deps.config.clientIpHeader) });
    await next();
  });
