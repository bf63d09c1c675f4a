import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../deps';
import { AppError, type ErrorCode } from '../errors';
import { postgresRefusedText, postgresSqlState, postgresUnavailable } from '../store/unavailable';
import { requestLog } from './hygiene';

/** The one place an error code becomes an HTTP status. */
export const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_authorization_header: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  missing_credentials: 401,
  invalid_credentials: 401,
  token_invalid: 401,
  token_expired: 401,
  token_revoked: 401,
  token_disabled: 401,
  base_not_in_scope: 401,
  wrong_token_type: 401,
  account_disabled: 401,
  insufficient_permission: 403,
  // The credential is genuine and live, but used from a client address its allowlist refuses.
  address_not_allowed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  rate_limited: 429,
  service_unavailable: 503,
  internal_error: 500,
};

export function errorResponse(
  c: Context,
  code: ErrorCode,
  message: string,
  retryAfterSeconds?: number,
): Response {
  const status = STATUS[code];
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="tokenladder"');
  if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
  // request_id (set by the hygiene middleware; absent only in a bare sub-app) lets a caller quote it to the operator.
  return c.json({ error: { code, message, request_id: c.get('requestId') } }, status);
}

const ROUTED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The methods `app` has a route for at `path`, asked of the app's own router (so trailing slashes and
 * parameters match exactly as they do for a request); middleware (`app.use`) is no route. GET brings
 * HEAD, which Hono answers from it. Empty: no route at all.
 */
export function allowedMethods(app: Hono, path: string): string[] {
  const allowed: string[] = ROUTED_METHODS.filter((method) =>
    app.router.match(method, path)[0].some(([[, route]]) => route.method === method),
  );
  if (allowed.includes('GET')) allowed.splice(1, 0, 'HEAD');
  return allowed;
}

/**
 * The app's answer for a request no route took: 405 with `Allow` when the path exists under other
 * methods (in SeaTable's shape on its paths), else 404.
 */
export function noRoute(
  app: Hono,
  render: { seatablePath: (path: string) => boolean; seatableError: SeatableRenderer },
) {
  return (c: Context) => {
    const { method, path } = c.req;
    const allowed = allowedMethods(app, path);
    if (allowed.length === 0 || allowed.includes(method))
      return errorResponse(c, 'not_found', `no route for ${method} ${path}`);
    c.header('Allow', allowed.join(', '));
    if (render.seatablePath(path))
      return render.seatableError(c, 'method_not_allowed', `Method "${method}" not allowed.`);
    const others = allowed.filter((m) => m !== 'HEAD');
    return errorResponse(
      c,
      'method_not_allowed',
      `${method} is not allowed on ${path}; it takes ${others.slice(0, -1).join(', ')}${others.length > 1 ? ' or ' : ''}${others.at(-1)}`,
    );
  };
}
type SeatableRenderer = (c: Context, code: ErrorCode, message: string) => Response;

/**
 * A database that cannot answer now (busy beyond the timeout, disk full, read-only file; on
 * PostgreSQL also unreachable, lock or statement timeout, deadlock, serialization failure): the write
 * was rolled back and nothing the caller did is wrong, so a 503 with Retry-After, logged. Null for
 * any other error.
 */
function storeUnavailable(
  error: Error,
  c: Context,
  log: Logger,
): { message: string; retryAfterSeconds: number } | null {
  if (/SQLITE_BUSY|database is locked/i.test(error.message)) {
    requestLog(c, log).warn('database busy', { path: c.req.path });
    return { message: 'the database is busy, retry shortly', retryAfterSeconds: 1 };
  }
  const storeCode = String((error as { code?: unknown }).code ?? '');
  if (
    /^SQLITE_(FULL|READONLY)/.test(storeCode) ||
    /database or disk is full|readonly database/i.test(error.message)
  ) {
    requestLog(c, log).error('database cannot write', { path: c.req.path, code: storeCode });
    return { message: 'the database cannot take writes right now, retry later', retryAfterSeconds: 30 };
  }
  if (postgresUnavailable(error)) {
    requestLog(c, log).warn('database unavailable', {
      path: c.req.path,
      code: postgresSqlState(error) ?? String((error as { code?: unknown }).code ?? ''),
      error: error.message,
    });
    return { message: 'the database is busy or unreachable, retry shortly', retryAfterSeconds: 1 };
  }
  return null;
}

/**
 * What an error means to the caller, decided once for every renderer (native JSON, SeaTable, HTML).
 * `source` says where it came from: the UI renders only the application's own and the store's errors
 * as pages, and treats the rest as unexpected.
 */
export interface ClassifiedError {
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
  /** An AppError, one of Hono's own 4xx rejections, a store that cannot answer now, or anything else. */
  source: 'app' | 'hono' | 'store' | 'unexpected';
}

/**
 * Expected errors keep their code; Hono's 4xx become ours; a store that cannot answer is a 503; anything
 * else is `internal_error` with a fixed message, its cause logged (as are the store's).
 */
export function classifyError(error: Error, c: Context, log: Logger): ClassifiedError {
  if (error instanceof AppError) {
    const { code, message, retryAfterSeconds } = error;
    return { code, message, retryAfterSeconds, source: 'app' };
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own rejections (malformed JSON from the validator, etc.).
    const code: ErrorCode =
      error.status === 413
        ? 'payload_too_large'
        : /malformed json/i.test(error.message)
          ? 'invalid_json'
          : 'invalid_request';
    return { code, message: error.message || 'bad request', source: 'hono' };
  }
  const unavailable = storeUnavailable(error, c, log);
  if (unavailable) return { code: 'service_unavailable', ...unavailable, source: 'store' };
  if (postgresRefusedText(error)) {
    // SQLite stores any string; PostgreSQL's text cannot hold NUL (or bytes outside the encoding), so
    // such input (an id in a path, a field) is the caller's to fix, not an internal error.
    return {
      code: 'invalid_request',
      message: 'the request contains a character that cannot be stored (such as NUL)',
      source: 'store',
    };
  }
  logUnhandled(error, c, log);
  return { code: 'internal_error', message: 'internal error', source: 'unexpected' };
}

/** An error no handler expected: its cause, with the request, goes to the log (never to the caller). */
export function logUnhandled(error: Error, c: Context, log: Logger): void {
  requestLog(c, log).error('unhandled error', {
    method: c.req.method,
    path: c.req.path,
    error: error.stack ?? error.message,
  });
}

/** onError for the native API: the classification in the standard envelope. */
export const handleError = (log: Logger) => (error: Error, c: Context) => {
  const { code, message, retryAfterSeconds } = classifyError(error, c, log);
  return errorResponse(c, code, message, retryAfterSeconds);
};
