/**
 * Downstream verifier for tokenladder Base-Tokens. Depends only on jose and Web APIs.
 * The Hono middleware lives in `./hono` so this entry point stays framework-free.
 *
 * @example
 * ```ts
 * import { createBaseTokenVerifier, canWrite, BaseTokenError } from './verify';
 * ```
 * @module
 */
export {
  createBaseTokenVerifier,
  ALLOWED_ALGORITHMS,
  type BaseTokenAlgorithm,
  type BaseTokenVerifier,
  type BaseTokenVerifierOptions,
  type VerifyOptions,
} from './verifier';
export {
  baseAudience,
  can,
  canRead,
  canWrite,
  type BaseTokenClaims,
  type BasePermission,
  type BaseTokenType,
} from './claims';
export { BaseTokenError, type BaseTokenErrorCode } from './errors';
export {
  CATEGORIES,
  RECORD_OPERATIONS,
  type Category,
  type RecordOperation,
  type ScopeAction,
  type Scopes,
} from './scopes';
export { MAX_TOKEN_LENGTH } from './precheck';
export { createRevocationList, type RevocationList, type RevocationListOptions } from './revocations';
export type { VerifiedCacheOptions } from './verified-cache';
export { REMOTE_JWKS_DEFAULTS, type KeySourceOptions } from './key-source';
