import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Deps, Logger } from '../deps';
import { clientIp } from './client-ip';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's id: echoed in `X-Request-Id`, error bodies and every log line written for it. */
    requestId: string;
  }
}

/**
 * An incoming `X-Request-Id` is kept (so a proxy's id correlates across services) only if it is
 * plain: no spaces, quotes or control characters that could forge or break a log line or a header.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,64}$/;

const CSP = "default-src 'none'; frame-ancestors 'none'";
const HSTS = 'max-age=31536000';

/**
 * Request id and security headers on every response. Headers are set before the handler (reading
 * c.res after it would make the Node adapter build a full Response), so a route's own `c.header()`
 * wins: the JWKS sets its Cache-Control, HTML pages (/docs, /ui) their CSP.
 */
export function hygiene(): MiddlewareHandler {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const id = incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    // Responses carry tokens, so nothing is cached unless a route says so.
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header('Content-Security-Policy', CSP);
    // Only over TLS (RFC 6797 §7.2): over plain HTTP a browser ignores it, and a TLS-terminating proxy sets its own.
    if (c.req.url.startsWith('https:')) c.header('Strict-Transport-Security', HSTS);
    await next();
  };
}

/** A logger whose lines all carry this request's id; for code that logs while serving a request. */
export function requestLog(c: Context, log: Logger): Logger {
  const requestId = c.get('requestId');
  if (requestId === undefined) return log;
  return {
    info: (message, fields) => log.info(message, { ...fields, request_id: requestId }),
    warn: (message, fields) => log.warn(message, { ...fields, request_id: requestId }),
    error: (message, fields) => log.error(message, { ...fields, request_id: requestId }),
  };
}

const MAX_LOGGED_PATH = 512;

/**
 * `TOKENLADDER_ACCESS_LOG`: one line per request. Never the query string (callers put things there we
 * do not want in logs); the path is capped and goes through the redacting logger like everything else.
 * Off by default: reading the status after the handler and writing a line cost on the hot path.
 */
export function accessLog(deps: Pick<Deps, 'log' | 'config'>): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path;
    deps.log.info('request', {
      request_id: c.get('requestId'),
      method: c.req.method,
      path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      client_ip: clientIp(c, deps.config.clientIpHeader),
    });
  };
}

/**
 * `TOKENLADDER_CORS_ORIGINS`, for `/api/*` and `/.well-known/*`: browsers on the listed origins may
 * send `Authorization` and read `X-Request-Id` and `Retry-After`. Credentials mode is never allowed
 * (the API takes no cookies), which is also why `*` is acceptable. A request without `Origin` (every
 * script and server) or from an origin not listed passes through untouched: no `Access-Control-*`
 * header, no extra work on the exchange hot path.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const handler = cors({
    origin: any ? '*' : [...allowed],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
    credentials: false,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && (any || allowed.has(origin))) return handler(c, next);
    // The answer depends on Origin whenever some origins get CORS headers and others not.
    if (!any) c.header('Vary', 'Origin', { append: true });
    await next();
  };
}
