import { AppError, type ErrorCode } from '../errors';
import { BaseRequired, ScopeRefused } from '../tokens/base-tokens';

/**
 * The error codes of the OAuth endpoints: RFC 6749 §5.2, RFC 8707 (`invalid_target`), RFC 7009
 * (`unsupported_token_type`) and RFC 6749 §4.1.2.1 (`temporarily_unavailable`, `server_error`).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error';

/** The one place an OAuth error code becomes a status (a rate limit's 429 is taken from its cause). */
export const OAUTH_STATUS: Record<OAuthErrorCode, 400 | 401 | 429 | 500 | 503> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  temporarily_unavailable: 503,
  server_error: 500,
};

/**
 * A refusal in the OAuth endpoints' terms. It stays an AppError with the code the native API would
 * have answered (`token_revoked`, `insufficient_permission`…), so the failed-authentication audit
 * records and metrics treat `/oauth/token` exactly as `POST /api/v1/base-tokens`.
 */
export class OAuthError extends AppError {
  constructor(
    readonly oauthCode: OAuthErrorCode,
    message: string,
    cause?: AppError,
  ) {
    super(cause?.code ?? defaultCode(oauthCode), message, cause?.retryAfterSeconds);
    this.name = 'OAuthError';
  }
}

function defaultCode(code: OAuthErrorCode): ErrorCode {
  if (code === 'invalid_client') return 'invalid_credentials';
  if (code === 'temporarily_unavailable') return 'service_unavailable';
  if (code === 'server_error') return 'internal_error';
  return 'invalid_request';
}

/** Refusals of the presented credential itself: the client's (client credentials) or the grant's. */
const CREDENTIAL_REFUSALS = new Set<ErrorCode>([
  'missing_credentials',
  'invalid_credentials',
  'invalid_authorization_header',
  'token_invalid',
  'token_expired',
  'token_revoked',
  'token_disabled',
  'wrong_token_type',
  'account_disabled',
]);

/**
 * A refusal of the exchange, translated: `client` when the credential authenticated the client
 * (client credentials), `grant` when it was the grant (token exchange's `subject_token`). Errors that
 * are not refusals (a store that cannot answer, a bug) pass through unchanged.
 */
export function asOAuthError(error: unknown, credential: 'client' | 'grant'): unknown {
  if (!(error instanceof AppError) || error instanceof OAuthError) return error;
  const { code, message } = error;
  if (CREDENTIAL_REFUSALS.has(code))
    return new OAuthError(credential === 'client' ? 'invalid_client' : 'invalid_grant', message, error);
  if (code === 'base_not_in_scope' || code === 'not_found')
    return new OAuthError('invalid_target', message, error);
  if (error instanceof BaseRequired)
    return new OAuthError(
      'invalid_target',
      'name the base: resource=urn:tokenladder:base:<uuid> (this token reaches several bases, or is an Account-Token)',
      error,
    );
  if (error instanceof ScopeRefused) return new OAuthError('invalid_scope', message, error);
  // The client (or grant) is refused from this address: RFC 6749 §5.2's unauthorized_client for a
  // client that authenticated, invalid_grant for a subject_token that may not be used from here.
  if (code === 'insufficient_permission' || code === 'address_not_allowed')
    return new OAuthError(credential === 'client' ? 'unauthorized_client' : 'invalid_grant', message, error);
  if (code === 'rate_limited' || code === 'service_unavailable')
    return new OAuthError('temporarily_unavailable', message, error);
  if (code === 'invalid_request' || code === 'invalid_json')
    return new OAuthError('invalid_request', message, error);
  return error;
}
