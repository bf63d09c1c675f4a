/** Stable error codes; the HTTP layer maps each to exactly one status (src/http/errors.ts). */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'invalid_authorization_header'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'missing_credentials'
  | 'invalid_credentials'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'token_disabled'
  | 'base_not_in_scope'
  | 'wrong_token_type'
  | 'account_disabled'
  | 'insufficient_permission'
  | 'address_not_allowed'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error';

/** An expected failure with a message safe to show to the caller. Never put a secret in it. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds a client should wait, for rate_limited / service_unavailable. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (message: string) => new AppError('insufficient_permission', message);
export const conflict = (message: string) => new AppError('conflict', message);
export const badRequest = (message: string) => new AppError('invalid_request', message);
