import { BaseTokenError } from './errors';

/**
 * Access level carried by a Base-Token; `admin` implies `rw`, `r` is read-only.
 *
 * @example
 * ```ts
 * const level: BasePermission = claims.permission; // 'r' | 'rw' | 'admin'
 * ```
 */
export type BasePermission = 'r' | 'rw' | 'admin';

/**
 * Kind of tokenladder credential that was exchanged for the Base-Token.
 *
 * @example
 * ```ts
 * if (claims.token_type === 'api_token') audit(`API-Token ${claims.token_name}`);
 * ```
 */
export type BaseTokenType = 'api_token' | 'account_token';

/**
 * The verified claims of a Base-Token (the fixed tokenladder contract).
 *
 * @example
 * ```ts
 * const claims: BaseTokenClaims = await verifier.verify(token, { baseUuid });
 * console.log(claims.sub, claims.permission);
 * ```
 */
export interface BaseTokenClaims {
  readonly iss: string;
  /** Always `urn:tokenladder:base:<base_uuid>`. */
  readonly aud: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** Id of the API-Token or Account-Token that was exchanged. */
  readonly client_id: string;
  readonly token_type: BaseTokenType;
  readonly token_name: string;
  /** Lowercase UUID of the base, equal to the uuid inside `aud`. */
  readonly base_uuid: string;
  readonly permission: BasePermission;
}

const AUDIENCE_PREFIX = 'urn:tokenladder:base:';
const LOWERCASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PERMISSIONS: readonly string[] = ['r', 'rw', 'admin'] satisfies BasePermission[];
const TOKEN_TYPES: readonly string[] = ['api_token', 'account_token'] satisfies BaseTokenType[];

/**
 * Normalises a base UUID (UUIDs are case-insensitive) or returns `undefined` if it is not one.
 *
 * @example
 * ```ts
 * normalizeBaseUuid('0F8FAD5B-D9CB-469F-A165-70867728950E'); // '0f8fad5b-d9cb-469f-a165-70867728950e'
 * normalizeBaseUuid('../etc'); // undefined
 * ```
 */
export function normalizeBaseUuid(uuid: string): string | undefined {
  const lower = uuid.toLowerCase();
  return LOWERCASE_UUID.test(lower) ? lower : undefined;
}

/**
 * The `aud` value tokenladder puts into Base-Tokens for a base.
 *
 * @throws TypeError if `uuid` is not a UUID.
 * @example
 * ```ts
 * baseAudience('0f8fad5b-d9cb-469f-a165-70867728950e');
 * // 'urn:tokenladder:base:0f8fad5b-d9cb-469f-a165-70867728950e'
 * ```
 */
export function baseAudience(uuid: string): string {
  const normalized = normalizeBaseUuid(uuid);
  if (normalized === undefined) throw new TypeError('baseAudience: not a UUID');
  return AUDIENCE_PREFIX + normalized;
}

/**
 * True if the token may read the base (every valid Base-Token can).
 *
 * @example
 * ```ts
 * if (!canRead(claims)) return c.json({ error: 'forbidden' }, 403);
 * ```
 */
export function canRead(claims: BaseTokenClaims): boolean {
  return PERMISSIONS.includes(claims.permission);
}

/**
 * True if the token may write to the base (`rw` or `admin`).
 *
 * @example
 * ```ts
 * if (!canWrite(claims)) return c.json({ error: 'insufficient_scope' }, 403);
 * ```
 */
export function canWrite(claims: BaseTokenClaims): boolean {
  return claims.permission === 'rw' || claims.permission === 'admin';
}

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;
const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
const isOneOf = <T extends string>(value: unknown, allowed: readonly string[]): value is T =>
  typeof value === 'string' && allowed.includes(value);

/**
 * Strict post-jose check of a claims set whose signature, `iss`, `aud`, `typ` and times jose has
 * already verified. Returns a fresh plain object holding only the contract claims, so extra or
 * `__proto__`-named claims from the payload never reach callers.
 *
 * @throws BaseTokenError `token_audience_mismatch` if `aud` is not one expected single string,
 *   `token_claims_invalid` for any other type or consistency fault.
 * @example
 * ```ts
 * const claims = parseBaseTokenClaims(payload, ['urn:tokenladder:base:0f8fad5b-d9cb-469f-a165-70867728950e']);
 * ```
 */
export function parseBaseTokenClaims(
  payload: Readonly<Record<string, unknown>>,
  expectedAudiences: readonly string[],
): BaseTokenClaims {
  const { iss, aud, sub, iat, exp, jti, client_id, token_type, token_name, base_uuid, permission } =
    payload;

  // jose accepts an array `aud` that merely contains the expected value; the contract is one base.
  if (typeof aud !== 'string' || !expectedAudiences.includes(aud)) {
    throw new BaseTokenError('token_audience_mismatch');
  }
  const valid =
    isNonEmptyString(iss) &&
    isNonEmptyString(sub) &&
    isFiniteNumber(iat) &&
    isFiniteNumber(exp) &&
    isNonEmptyString(jti) &&
    isNonEmptyString(client_id) &&
    isOneOf<BaseTokenType>(token_type, TOKEN_TYPES) &&
    typeof token_name === 'string' &&
    typeof base_uuid === 'string' &&
    LOWERCASE_UUID.test(base_uuid) &&
    aud === AUDIENCE_PREFIX + base_uuid &&
    isOneOf<BasePermission>(permission, PERMISSIONS);
  if (!valid) throw new BaseTokenError('token_claims_invalid');

  return Object.freeze({
    iss,
    aud,
    sub,
    iat,
    exp,
    jti,
    client_id,
    token_type,
    token_name,
    base_uuid,
    permission,
  });
}
