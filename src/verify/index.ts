/**
 * Downstream verifier for tokenladder Base-Tokens. Depends only on jose and Web APIs.
 * The Hono middleware lives in `@tokenladder/verify/hono` so this entry point stays framework-free.
 *
 * @example
 * ```ts
 * import { createBaseTokenVerifier, canWrite, BaseTokenError } from '@tokenladder/verify';
 * ```
 * @module
 */
export {
  createBaseTokenVerifier,
  ALLOWED_ALGORITHMS,
  DEFAULT_ALGORITHMS,
  type BaseTokenAlgorithm,
  type BaseTokenVerifier,
  type BaseTokenVerifierOptions,
  type VerifyOptions,
  type DpopOptions,
  type DpopRequest,
} from './verifier.js';
export {
  verifyDpopProof,
  createDpopReplayCache,
  normalizeHtu,
  accessTokenHash,
  DPOP_ALLOWED_ALGORITHMS,
  DEFAULT_DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopProof,
  type DpopProofCheck,
  type DpopReplayCache,
  type DpopReplayCacheOptions,
} from './dpop.js';
export {
  baseAudience,
  can,
  canRead,
  canWrite,
  type BaseTokenClaims,
  type BasePermission,
  type BaseTokenType,
} from './claims.js';
export { BaseTokenError, type BaseTokenErrorCode } from './errors.js';
export {
  CATEGORIES,
  RECORD_OPERATIONS,
  scopeString,
  type Category,
  type RecordOperation,
  type ScopeAction,
  type Scopes,
} from './scopes.js';
export { MAX_TOKEN_LENGTH } from './precheck.js';
export { createRevocationList, type RevocationList, type RevocationListOptions } from './revocations.js';
export type { VerifiedCacheOptions } from './verified-cache.js';
export { REMOTE_JWKS_DEFAULTS, type KeySourceOptions } from './key-source.js';
