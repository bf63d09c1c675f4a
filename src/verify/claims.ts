import { BaseTokenError } from './errors.js';
import { isCanonicalNetwork, MAX_NETWORKS } from './networks.js';
import { allows, parseScopes, scopesOfPermission, type ScopeAction, type Scopes } from './scopes.js';

/**
 * Coarse access level carried by a Base-Token; `admin` implies `rw`, `r` is read-only, `custom`
 * means the token's fine-grained `scp` grants less than reading everything (use {@link can}).
 *
 * @example
 * ```ts
 * const level: BasePermission = claims.permission; // 'r' | 'rw' | 'admin' | 'custom'
 * ```
 */
export type BasePermission = 'r' | 'rw' | 'admin' | 'custom';

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
  /**
   * Id of the API-Token or Account-Token that was exchanged; for a temporary API-Token (SeaTable's
   * temp-api-token, `token_name` `scripts`), that token's `jti`. Revocation feed `client` entries match it.
   */
  readonly client_id: string;
  readonly token_type: BaseTokenType;
  readonly token_name: string;
  /** Lowercase UUID of the base, equal to the uuid inside `aud`. */
  readonly base_uuid: string;
  readonly permission: BasePermission;
  /** Fine-grained permissions (see scopes.ts), present when the token grants less than `permission` says alone. */
  readonly scp?: Scopes;
  /**
   * The grant as a space-separated scope string (RFC 9068 §2.2.3): `base:<permission>` for a coarse
   * grant, then every action allowed on every table (see `scopeString`). For gateways that match
   * strings; `can()` reads `scp`/`permission`, which also carry table-level grants. Absent from
   * Base-Tokens issued before the claim existed.
   */
  readonly scope?: string;
  /**
   * The revocation feed's position when the token was exchanged, read together with its source: feed
   * entries written later (a higher `gen`) refuse it, earlier ones do not, whatever the clocks say.
   * Absent from Base-Tokens issued before tokenladder 0.2 (their `iat` is compared instead).
   */
  readonly gen?: number;
  /**
   * Confirmation (RFC 9449 §6.1): the RFC 7638 SHA-256 thumbprint of the client's DPoP key. A token
   * carrying it is DPoP-bound: `verify()` refuses it without a proof made with that key.
   */
  readonly cnf?: { readonly jkt: string };
  /**
   * The client networks (canonical CIDR strings, IPv4 `a.b.c.d/n` and RFC 5952 IPv6 `x::/n`) the token may
   * be used from, copied from its API-Token's `allowed_networks`; absent when that token has none. The
   * verifier refuses a token with `cidr` unless the call's `clientAddress` lies in one of them.
   */
  readonly cidr?: readonly string[];
}

/** What every Base-Token's `aud` starts with; the base UUID follows. */
export const BASE_AUDIENCE_PREFIX = 'urn:tokenladder:base:';
/** Longer than any `scope` tokenladder writes (about 300 characters). */
const MAX_SCOPE_LENGTH = 2048;
const LOWERCASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PERMISSIONS: readonly string[] = ['r', 'rw', 'admin', 'custom'] satisfies BasePermission[];
const TOKEN_TYPES: readonly string[] = ['api_token', 'account_token'] satisfies BaseTokenType[];
/** RFC 7638 SHA-256 thumbprint, base64url without padding. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

/** `{ jkt }` and nothing else (a `cnf` we do not understand must not be mistaken for an unbound token). */
function parseCnf(cnf: unknown): { readonly jkt: string } | undefined {
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return undefined;
  const keys = Object.keys(cnf);
  const { jkt } = cnf as { jkt?: unknown };
  if (keys.length !== 1 || keys[0] !== 'jkt' || typeof jkt !== 'string' || !JKT.test(jkt)) return undefined;
  return Object.freeze({ jkt });
}

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
  return BASE_AUDIENCE_PREFIX + normalized;
}

/**
 * Whether the token allows an action: `<category>:read|write` for NocoDB's eight categories
 * (records, comments, tables, fields, views, webhooks, base, users) or `records:create|read|update|delete`,
 * optionally for one table. Uses `scp` when present, else the coarse `permission`.
 *
 * @example
 * ```ts
 * if (!can(claims, 'records:update', { table: 'tbl1' })) return c.json({ error: 'insufficient_scope' }, 403);
 * ```
 */
export function can(claims: BaseTokenClaims, action: ScopeAction, options: { table?: string } = {}): boolean {
  const coarse = claims.permission;
  // Fail closed on anything unexpected, even in a claims object built by hand.
  const scopes =
    claims.scp ??
    (coarse === 'r' || coarse === 'rw' || coarse === 'admin' ? scopesOfPermission(coarse) : undefined);
  return scopes !== undefined && allows(scopes, action, options.table);
}

/**
 * True if the token may read every table's records.
 *
 * @example
 * ```ts
 * if (!canRead(claims)) return c.json({ error: 'forbidden' }, 403);
 * ```
 */
export function canRead(claims: BaseTokenClaims): boolean {
  return can(claims, 'records:read');
}

/**
 * True if the token may create, update and delete records in every table (`rw`, `admin`, or scopes that say so).
 *
 * @example
 * ```ts
 * if (!canWrite(claims)) return c.json({ error: 'insufficient_scope' }, 403);
 * ```
 */
export function canWrite(claims: BaseTokenClaims): boolean {
  return can(claims, 'records:write');
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
const isOneOf = <T extends string>(value: unknown, allowed: readonly string[]): value is T =>
  typeof value === 'string' && allowed.includes(value);

/** A `cidr` claim: 1 to MAX_NETWORKS canonical networks (an empty list would refuse every address). */
const isNetworkList = (value: unknown): value is string[] =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.length <= MAX_NETWORKS &&
  value.every((entry) => typeof entry === 'string' && entry.length <= 64 && isCanonicalNetwork(entry));

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
  const {
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
    scp,
    gen,
    scope,
    cnf,
    cidr,
  } = payload;

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
    aud === BASE_AUDIENCE_PREFIX + base_uuid &&
    isOneOf<BasePermission>(permission, PERMISSIONS) &&
    (gen === undefined || (Number.isSafeInteger(gen) && (gen as number) >= 0)) &&
    (scope === undefined || (typeof scope === 'string' && scope.length <= MAX_SCOPE_LENGTH)) &&
    (cidr === undefined || isNetworkList(cidr));
  if (!valid) throw new BaseTokenError('token_claims_invalid');
  const scopes = scp === undefined ? undefined : parseScopes(scp);
  if (scp !== undefined && scopes === undefined) throw new BaseTokenError('token_claims_invalid');
  const confirmation = cnf === undefined ? undefined : parseCnf(cnf);
  if (cnf !== undefined && confirmation === undefined) throw new BaseTokenError('token_claims_invalid');

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
    ...(scopes && { scp: scopes }),
    ...(gen !== undefined && { gen: gen as number }),
    ...(scope !== undefined && { scope: scope as string }),
    ...(confirmation && { cnf: confirmation }),
    ...(cidr !== undefined && { cidr: Object.freeze([...(cidr as string[])]) }),
  });
}
