import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../deps';
import { AppError, type ErrorCode } from '../errors';
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

/**
 * A database that cannot answer now (busy beyond the timeout, disk full, read-only file): the write
 * was rolled back and nothing the caller did is wrong, so a 503 with Retry-After, logged. Shared by
 * every error handler (native, SeaTable, UI). Null for any other error.
 */
export function storeUnavailable(
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
  return null;
}

/** onError: expected errors keep their code; anything else is a fixed 500 body, its cause logged. */
export const handleError = (log: Logger) => (error: Error, c: Context) => {
  if (error instanceof AppError) return errorResponse(c, error.code, error.message, error.retryAfterSeconds);
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own rejections (malformed JSON from the validator, etc.).
    const code: ErrorCode =
      error.status === 413
        ? 'payload_too_large'
        : /malformed json/i.test(error.message)
          ? 'invalid_json'
          : 'invalid_request';
    return errorResponse(c, code, error.message || 'bad request');
  }
  const unavailable = storeUnavailable(error, c, log);
  if (unavailable)
    return errorResponse(c, 'service_unavailable', unavailable.message, unavailable.retryAfterSeconds);
  requestLog(c, log).error('unhandled error', {
    method: c.req.method,
    path: c.req.path,
    error: error.stack ?? error.message,
  });
  return errorResponse(c, 'internal_error', 'internal error');
};
