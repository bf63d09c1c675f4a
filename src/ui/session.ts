import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { authenticateAccountToken } from '../accounts/account-tokens';
import type { Principal } from '../accounts/principal';
import { seesEveryUser } from '../accounts/users';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { clientIp } from '../http/client-ip';
import { STATUS } from '../http/errors';
import { base64url, randomBytes } from '../lib/bytes';
import { CSRF_FIELD, CSRF_LABEL, csrfToken, csrfTokenMatches, sameOrigin } from './csrf';
import type { Viewer } from './pages/layout';

/** The session cookie holds the secret of an Account-Token made at sign-in: hashed at rest, listed, revocable. */
export const SESSION_COOKIE = 'tl_ui_session';
/** Before sign-in: a random secret the sign-in form's CSRF token is derived from. */
export const SIGN_IN_COOKIE = 'tl_ui_signin';
/** The name of the Account-Token a browser sign-in creates. */
export const SESSION_TOKEN_NAME = 'Web session';
/** How long a browser session (its Account-Token and cookie) lasts; never beyond the configured maximum age. */
export const SESSION_DAYS = 7;
const COOKIE_PATH = '/ui';

export type UiEnv = { Variables: { principal: Principal; session: string; viewer: Viewer } };

/** A 403 for a form that did not come from this site's page (missing/wrong CSRF token, foreign Origin). */
export class CsrfError extends Error {
  constructor() {
    super('csrf check failed');
    this.name = 'CsrfError';
  }
}

/** Whether the browser reached us over https (directly, or through a proxy that says so). */
export function isHttps(c: Context): boolean {
  return (
    new URL(c.req.url).protocol === 'https:' ||
    c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https'
  );
}

const cookieOptions = (c: Context) => ({
  path: COOKIE_PATH,
  httpOnly: true,
  secure: isHttps(c),
  sameSite: 'Strict' as const,
});

export function setSessionCookie(c: Context, token: string, maxAgeSeconds: number): void {
  setCookie(c, SESSION_COOKIE, token, {
    ...cookieOptions(c),
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c));
}

/** The sign-in form's secret: the cookie's, or a fresh one (set as a cookie for the POST). */
export function signInSecret(c: Context, fresh = false): string {
  const existing = getCookie(c, SIGN_IN_COOKIE);
  if (!fresh && existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const secret = base64url(randomBytes(32));
  setCookie(c, SIGN_IN_COOKIE, secret, { ...cookieOptions(c), maxAge: 3600 });
  return secret;
}

export function clearSignInCookie(c: Context): void {
  deleteCookie(c, SIGN_IN_COOKIE, cookieOptions(c));
}

/** Form fields, repeated names as arrays (parsed once per request: Hono caches the first parse). */
export async function formOf(c: Context): Promise<Record<string, string | string[]>> {
  const contentType = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(contentType)) return {};
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch {
    // A multipart body that does not match its boundary (or has none) makes the parser throw.
    throw new AppError('invalid_request', 'the form could not be read');
  }
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') fields[key] = value;
    else if (Array.isArray(value))
      fields[key] = value.filter((item): item is string => typeof item === 'string');
  }
  return fields;
}

/** One text field (the first, if repeated); '' when absent. */
export const field = (form: Record<string, string | string[]>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value : (value?.[0] ?? '');
};

/** Every value of a repeated field. */
export const fields = (form: Record<string, string | string[]>, name: string): string[] => {
  const value = form[name];
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
};

/**
 * Signed-in pages: the cookie's Account-Token must authenticate (as on the API: revoked, expired or
 * deactivated ends the session). Otherwise the browser goes to the sign-in page.
 */
export const requireSession = (deps: Deps) =>
  createMiddleware<UiEnv>(async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return c.redirect('/ui/login', 303);
    let principal: Principal;
    try {
      principal = await authenticateAccountToken(deps, token);
    } catch (error) {
      if (error instanceof AppError && STATUS[error.code] === 401) {
        clearSessionCookie(c);
        return c.redirect('/ui/login?notice=session-ended', 303);
      }
      throw error;
    }
    // As on the API (src/http/auth.ts): the caller's address goes with the principal, for the audit log.
    c.set('principal', { ...principal, clientIp: clientIp(c, deps.config.clientIpHeader) });
    c.set('session', token);
    c.set('viewer', {
      email: principal.email,
      name: principal.name,
      seesEveryUser: seesEveryUser(principal),
      csrf: await csrfToken(token, CSRF_LABEL.session),
    });
    await next();
  });

/**
 * Every state-changing request of a session: the form's CSRF token and, when the browser sends one, a
 * same-site Origin.
 */
export const requireCsrf = (deps: Deps) =>
  createMiddleware<UiEnv>(async (c, next) => {
    const form = await formOf(c);
    if (
      !sameOrigin(c, deps.config.issuer) ||
      !(await csrfTokenMatches(c.var.session, CSRF_LABEL.session, form[CSRF_FIELD]))
    ) {
      throw new CsrfError();
    }
    await next();
  });
