import { errors } from 'jose';
import { BaseTokenError, type BaseTokenErrorCode } from './errors.js';

/** Claim named by jose's JWTClaimValidationFailed → our code; unlisted claims are `token_claims_invalid`. */
const CLAIM_CODES: Readonly<Record<string, BaseTokenErrorCode>> = {
  iss: 'token_issuer_mismatch',
  aud: 'token_audience_mismatch',
  typ: 'token_type_invalid',
};

function claimFailureCode(error: errors.JWTClaimValidationFailed): BaseTokenErrorCode {
  // A future nbf/iat fails with reason "check_failed" (a too-old iat arrives as JWTExpired);
  // a non-numeric nbf/iat has reason "invalid" and stays a claims fault.
  const timeClaim = error.claim === 'nbf' || error.claim === 'iat';
  if (timeClaim && error.reason === 'check_failed') return 'token_not_yet_valid';
  return Object.hasOwn(CLAIM_CODES, error.claim) ? CLAIM_CODES[error.claim]! : 'token_claims_invalid';
}

/**
 * Translates whatever `jwtVerify` threw into a BaseTokenError. Errors that are not token faults
 * (programming errors such as a TypeError from bad options) are rethrown unchanged.
 *
 * @example
 * ```ts
 * try { await jwtVerify(token, key, options); } catch (err) { throw mapJoseError(err); }
 * ```
 */
export function mapJoseError(error: unknown): unknown {
  if (error instanceof BaseTokenError) return error;
  const code = joseErrorCode(error);
  return code === undefined ? error : new BaseTokenError(code, { cause: error });
}

function joseErrorCode(error: unknown): BaseTokenErrorCode | undefined {
  // Order matters: the specific jose classes all extend JOSEError.
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) return claimFailureCode(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token_signature_invalid';
  // An alg outside the allow-list (none, HS256, one the caller narrowed away) cannot carry a valid signature.
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token_signature_invalid';
  // No published key of this kid for this alg: unknown kid, an alg other than the key's JWK alg
  // (ES256 over an EdDSA key, RS256 over an EC key), or a key published without alg.
  if (error instanceof errors.JWKSNoMatchingKey) return 'token_key_unknown';
  // Two keys with one kid is an issuer fault, but the token still names no usable key.
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'token_key_unknown';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return 'jwks_unavailable';
  // JWSInvalid, JWTInvalid, JOSENotSupported (unknown crit, b64:false) and any other JOSEError.
  if (error instanceof errors.JOSEError) return 'token_malformed';
  return undefined;
}
