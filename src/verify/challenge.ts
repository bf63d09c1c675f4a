/**
 * `WWW-Authenticate: Bearer …` and `DPoP …` challenges (RFC 6750 §3, RFC 9728 §5.1, RFC 9449 §7.1), formatted so that every value
 * is a well-formed RFC 9110 §11.2 auth-param (`token = quoted-string`). No dependencies.
 */

/**
 * Parameters of a Bearer challenge, in the order they are written. Every value is made safe: `error`,
 * `error_description` and `scope` are reduced to the characters RFC 6750 §3 allows for them (never a
 * `"` or `\`), and every value is written as an RFC 9110 quoted-string.
 *
 * @example
 * ```ts
 * const params: BearerChallenge = { error: 'invalid_token', resource_metadata: metadataUrl };
 * ```
 */
export interface BearerChallenge {
  /** RFC 6750 §3.1 error code; absent when the request carried no credentials. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** Fixed human-readable text; never anything taken from the request. */
  readonly error_description?: string;
  /** Space-separated scope tokens the request needs (with `insufficient_scope`). */
  readonly scope?: string;
  /** Absolute URL of the RFC 9728 protected-resource metadata. */
  readonly resource_metadata?: string;
}

/** RFC 6750 §3: error and error_description are `%x20-21 / %x23-5B / %x5D-7E` (no `"`, no `\`). */
const NOT_DESCRIPTION_CHAR = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g;
/** RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** What an RFC 9110 quoted-string may hold besides quoted pairs (qdtext, printable ASCII and HTAB only). */
const NOT_QUOTABLE = /[^\t\x20-\x7E]/g;

/**
 * An RFC 9110 §5.6.4 quoted-string: `"` and `\` become quoted pairs; control characters and non-ASCII
 * (which no header may carry safely) are dropped, so the result can never end the header or the value.
 *
 * @example
 * ```ts
 * quotedString('say "hi"'); // '"say \\"hi\\""'
 * ```
 */
export function quotedString(value: string): string {
  return `"${value.replace(NOT_QUOTABLE, '').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Formats a Bearer challenge: `Bearer` alone when no parameter is given, else
 * `Bearer name="value", …` with the parameters in the order of {@link BearerChallenge}.
 *
 * @throws TypeError if `scope` holds a character RFC 6750 forbids in a scope token (a programming error).
 * @example
 * ```ts
 * bearerChallenge({ error: 'insufficient_scope', scope: 'records:update' });
 * // 'Bearer error="insufficient_scope", scope="records:update"'
 * ```
 */
export function bearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.error !== undefined) params.push(`error=${quotedString(challenge.error)}`);
  if (challenge.error_description !== undefined) {
    const description = challenge.error_description.replace(NOT_DESCRIPTION_CHAR, '');
    params.push(`error_description=${quotedString(description)}`);
  }
  if (challenge.scope !== undefined) {
    const tokens = challenge.scope.split(' ');
    if (!tokens.every((token) => SCOPE_TOKEN.test(token))) {
      throw new TypeError('bearerChallenge: scope must be space-separated RFC 6750 scope tokens');
    }
    params.push(`scope=${quotedString(challenge.scope)}`);
  }
  if (challenge.resource_metadata !== undefined) {
    params.push(`resource_metadata=${quotedString(challenge.resource_metadata)}`);
  }
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/**
 * Parameters of a DPoP challenge (RFC 9449 §7.1), written in this order.
 *
 * @example
 * ```ts
 * const params: DpopChallenge = { error: 'invalid_dpop_proof', algs: ['EdDSA', 'ES256'] };
 * ```
 */
export interface DpopChallenge {
  /** `invalid_dpop_proof` for a refused proof, `invalid_token` for a refused token; absent without credentials. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof' | 'insufficient_scope';
  /** Fixed human-readable text; never anything taken from the request. */
  readonly error_description?: string;
  /** The proof algorithms the resource accepts (JWS alg names). */
  readonly algs: readonly string[];
  /** Absolute URL of the RFC 9728 protected-resource metadata. */
  readonly resource_metadata?: string;
}

/** A JWS alg name: letters, digits and `-`/`_` (RFC 7518 names, RFC 9864's `Ed25519`). */
const ALG_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Formats a DPoP challenge: `DPoP error="…", error_description="…", algs="EdDSA ES256"`.
 *
 * @throws TypeError if `algs` is empty or names something that is not an alg (a programming error).
 * @example
 * ```ts
 * dpopChallenge({ error: 'invalid_dpop_proof', algs: ['EdDSA', 'ES256'] });
 * // 'DPoP error="invalid_dpop_proof", algs="EdDSA ES256"'
 * ```
 */
export function dpopChallenge(challenge: DpopChallenge): string {
  if (challenge.algs.length === 0 || !challenge.algs.every((alg) => ALG_NAME.test(alg))) {
    throw new TypeError('dpopChallenge: algs must be a non-empty list of JWS algorithm names');
  }
  const params: string[] = [];
  if (challenge.error !== undefined) params.push(`error=${quotedString(challenge.error)}`);
  if (challenge.error_description !== undefined) {
    const description = challenge.error_description.replace(NOT_DESCRIPTION_CHAR, '');
    params.push(`error_description=${quotedString(description)}`);
  }
  params.push(`algs=${quotedString(challenge.algs.join(' '))}`);
  if (challenge.resource_metadata !== undefined) {
    params.push(`resource_metadata=${quotedString(challenge.resource_metadata)}`);
  }
  return `DPoP ${params.join(', ')}`;
}
