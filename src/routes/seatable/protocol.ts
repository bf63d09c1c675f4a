import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../../deps';
import { AppError, type ErrorCode } from '../../errors';
import { classifyError } from '../../http/errors';

/**
 * SeaTable's error shapes, for the compatible routes: Django REST Framework's `{"detail"}` for
 * authentication, `{"non_field_errors"}` for bad credentials, dtable-web's `{"error_msg"}` for the rest.
 * Same codes as the native API underneath; only the status and body differ where SeaTable's do.
 */
const INVALID_TOKEN = { status: 401, body: { detail: 'Invalid token' } } as const;
function seatableShape(code: ErrorCode, message: string): { status: ContentfulStatusCode; body: object } {
  switch (code) {
    case 'missing_credentials':
      return { status: 403, body: { detail: 'Authentication credentials were not provided.' } };
    case 'invalid_authorization_header':
      return { status: 401, body: { detail: 'Invalid token header. No credentials provided.' } };
    case 'token_invalid':
    case 'token_expired':
    case 'token_revoked':
    case 'token_disabled':
    case 'base_not_in_scope':
    case 'wrong_token_type':
      return INVALID_TOKEN;
    case 'account_disabled':
      return { status: 401, body: { detail: 'User inactive or deleted' } };
    case 'invalid_credentials':
      return { status: 400, body: { non_field_errors: ['Unable to login with provided credentials.'] } };
    case 'insufficient_permission':
    case 'address_not_allowed':
      return { status: 403, body: { error_msg: 'Permission denied.' } };
    case 'not_found':
      return { status: 404, body: { error_msg: `${message}.` } };
    case 'conflict':
    case 'invalid_request':
    case 'invalid_json':
      return { status: 400, body: { error_msg: message } };
    case 'method_not_allowed':
      // Django REST Framework's own 405 (the message is DRF's text: `Method "POST" not allowed.`).
      return { status: 405, body: { detail: message } };
    case 'unsupported_media_type':
      return { status: 415, body: { error_msg: message } };
    case 'payload_too_large':
      return { status: 413, body: { error_msg: message } };
    case 'rate_limited':
      return { status: 429, body: { detail: 'Request was throttled.' } };
    case 'service_unavailable':
      return { status: 503, body: { error_msg: message } };
    case 'internal_error':
      return { status: 500, body: { error_msg: 'Internal Server Error' } };
  }
}

/** The paths SeaTable's clients call (src/routes/seatable): errors there answer in SeaTable's shapes. */
export const isSeatablePath = (path: string) => /^\/(api2|api\/v2\.1|server-info)(\/|$)/.test(path);

/** An error in SeaTable's shape for its code. */
export function seatableErrorResponse(
  c: Context,
  code: ErrorCode,
  message: string,
  retryAfterSeconds?: number,
) {
  if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
  const { status, body } = seatableShape(code, message);
  if (status === 401) c.header('WWW-Authenticate', 'Token');
  return c.json(body, status);
}

/** onError for the SeaTable-compatible routes: the same classification as the native API, in SeaTable's shapes. */
export const handleSeatableError = (log: Logger) => (error: Error, c: Context) => {
  const { code, message, retryAfterSeconds } = classifyError(error, c, log);
  return seatableErrorResponse(c, code, message, retryAfterSeconds);
};

const FORM_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;
const JSON_TYPE = /^application\/json\b/i;

/**
 * A request's fields, from a form (urlencoded or multipart, as SeaTable's clients send) or a JSON
 * object. Only text values are accepted; an absent body is no fields.
 */
export async function readFields(c: Context): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? '';
  let raw: Record<string, unknown>;
  if (FORM_TYPE.test(type)) {
    try {
      raw = await c.req.parseBody();
    } catch {
      // A multipart body that does not match its boundary (or none at all) makes the parser throw.
      throw new AppError('invalid_request', 'the form body is malformed');
    }
  } else if (JSON_TYPE.test(type)) {
    const text = await c.req.text();
    if (text === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AppError('invalid_json', 'request body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new AppError('invalid_request', 'the body must be a JSON object');
    raw = parsed as Record<string, unknown>;
  } else if (c.req.raw.body === null || (await c.req.text()) === '') {
    return {};
  } else {
    throw new AppError('unsupported_media_type', 'send a form (urlencoded or multipart) or a JSON object');
  }
  const fields: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') fields[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') fields[key] = String(value);
    else throw new AppError('invalid_request', `${key} invalid.`);
  }
  return fields;
}

/** SeaTable writes times as ISO 8601 with seconds and a numeric UTC offset. */
export const seatableTime = (seconds: number) =>
  new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
