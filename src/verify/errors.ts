/**
 * Why a Base-Token was rejected. Every code except `jwks_unavailable` and `revocations_unavailable`
 * is a fault of the presented token or its DPoP proof (HTTP 401: RFC 6750 `invalid_token`, or RFC 9449
 * `invalid_dpop_proof` for the `dpop_*` codes about the proof); those two mean the verifier
 * could not get what it checks against and fails closed (HTTP 503, retry later).
 *
 * | code | meaning |
 * |---|---|
 * | `token_malformed` | not a compact JWS, over 4096 chars, non-canonical base64url, bad header/`kid`, forbidden header, bad JSON |
 * | `token_expired` | `exp` passed, or `iat` older than the configured lifetime (both with clock tolerance) |
 * | `token_not_yet_valid` | `nbf` or `iat` in the future (beyond clock tolerance) |
 * | `token_signature_invalid` | signature does not verify, or header `alg` is not on the allow-list |
 * | `token_key_unknown` | no (or no unique) key in the JWKS matches `kid` + `alg` |
 * | `token_audience_mismatch` | `aud` missing, not a single string, or not the expected base |
 * | `token_issuer_mismatch` | `iss` missing or not exactly the configured issuer |
 * | `token_type_invalid` | header `typ` is not `at+jwt` |
 * | `token_claims_invalid` | a required claim is missing or has the wrong type/value |
 * | `jwks_unavailable` | JWKS fetch failed/timed out/was invalid and no fresh cached set could answer |
 * | `token_revoked` | the revocation feed lists the token's `jti`, or an entry for its source (`client_id`, on its base or all) or for its user on its base, written after the token was exchanged (its `gen`) |
 * | `revocations_unavailable` | the revocation feed could not be read for longer than `maxStalenessSeconds` (only when set) |
 * | `dpop_binding_required` | the token is DPoP-bound (`cnf.jkt`) but was presented without a proof (as `Bearer`, or `verify()` without `dpop`) |
 * | `dpop_token_unbound` | the token was presented with the `DPoP` scheme but carries no `cnf` (RFC 9449 §7.2) |
 * | `dpop_proof_missing` | `DPoP` scheme without a `DPoP` proof header (several joined into one are `dpop_proof_invalid`) |
 * | `dpop_proof_invalid` | the proof is malformed, has the wrong `typ`, an alg off the list (none, HS*), a `jwk` that is not a bare public key, a bad signature, or a missing/ill-typed claim |
 * | `dpop_key_mismatch` | the proof's key thumbprint is not the token's `cnf.jkt` |
 * | `dpop_method_mismatch` | `htm` is not the request's method |
 * | `dpop_url_mismatch` | `htu` is not the request's URL (RFC 9449 §4.3 normalisation, query ignored) |
 * | `dpop_proof_stale` | the proof's `iat` is older than the proof lifetime, or in the future (beyond clock tolerance) |
 * | `dpop_ath_mismatch` | `ath` is not the hash of the token it came with |
 * | `dpop_proof_replayed` | the proof's `jti` was seen before (per process), or the proof is older than the replay cache can vouch for |
 * | `token_address_not_allowed` | the token carries `cidr` (an allowlisted API-Token) and the client address the service passed (`clientAddress`) is in none of them, or none was passed |
 *
 * @example
 * ```ts
 * if (err instanceof BaseTokenError && err.code === 'token_expired') askForNewToken();
 * ```
 */
export type BaseTokenErrorCode =
  | 'token_malformed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_signature_invalid'
  | 'token_key_unknown'
  | 'token_audience_mismatch'
  | 'token_issuer_mismatch'
  | 'token_type_invalid'
  | 'token_claims_invalid'
  | 'jwks_unavailable'
  | 'token_revoked'
  | 'revocations_unavailable'
  | 'dpop_binding_required'
  | 'dpop_token_unbound'
  | 'dpop_proof_missing'
  | 'dpop_proof_invalid'
  | 'dpop_key_mismatch'
  | 'dpop_method_mismatch'
  | 'dpop_url_mismatch'
  | 'dpop_proof_stale'
  | 'dpop_ath_mismatch'
  | 'dpop_proof_replayed'
  | 'token_address_not_allowed';

// Fixed texts: messages never echo the token or anything else taken from the request.
const MESSAGES: Record<BaseTokenErrorCode, string> = {
  token_malformed: 'The token is malformed.',
  token_expired: 'The token has expired.',
  token_not_yet_valid: 'The token is not valid yet.',
  token_signature_invalid: 'The token signature is invalid.',
  token_key_unknown: 'The token was signed by an unknown key.',
  token_audience_mismatch: 'The token is not valid for this resource.',
  token_issuer_mismatch: 'The token was issued by an unexpected issuer.',
  token_type_invalid: 'The token has the wrong type.',
  token_claims_invalid: 'The token claims are invalid.',
  jwks_unavailable: 'The signing keys are temporarily unavailable.',
  token_revoked: 'The token has been revoked.',
  revocations_unavailable: 'The revocation list is temporarily unavailable.',
  dpop_binding_required: 'The token is DPoP-bound and needs a DPoP proof.',
  dpop_token_unbound: 'The token is not DPoP-bound.',
  dpop_proof_missing: 'A single DPoP proof is required.',
  dpop_proof_invalid: 'The DPoP proof is invalid.',
  dpop_key_mismatch: 'The DPoP proof key does not match the token.',
  dpop_method_mismatch: 'The DPoP proof is for another method.',
  dpop_url_mismatch: 'The DPoP proof is for another URL.',
  dpop_proof_stale: 'The DPoP proof is not fresh.',
  dpop_ath_mismatch: 'The DPoP proof is for another token.',
  dpop_proof_replayed: 'The DPoP proof was already used.',
  token_address_not_allowed: 'The token may not be used from this client address.',
};

/**
 * Error thrown by `verify()` for every rejected Base-Token. `status` is the HTTP status to answer
 * with: 401 for token faults, 503 for `jwks_unavailable`.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify(token, { baseUuid });
 * } catch (err) {
 *   if (err instanceof BaseTokenError) return new Response(err.code, { status: err.status });
 *   throw err;
 * }
 * ```
 */
export class BaseTokenError extends Error {
  override readonly name = 'BaseTokenError';
  readonly code: BaseTokenErrorCode;
  readonly status: 401 | 503;

  constructor(code: BaseTokenErrorCode, options?: { cause?: unknown }) {
    super(MESSAGES[code], options);
    this.code = code;
    this.status = code === 'jwks_unavailable' || code === 'revocations_unavailable' ? 503 : 401;
  }
}
