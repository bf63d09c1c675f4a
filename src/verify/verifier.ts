import { jwtVerify, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import { baseAudience, normalizeBaseUuid, parseBaseTokenClaims, type BaseTokenClaims } from './claims.js';
import { BaseTokenError } from './errors.js';
import {
  createDpopReplayCache,
  DEFAULT_DPOP_ALGORITHMS,
  DPOP_ALLOWED_ALGORITHMS,
  verifyDpopProof,
  type DpopAlgorithm,
} from './dpop.js';
import { networksContain } from './networks.js';
import { createKeySource, type KeySourceOptions } from './key-source.js';
import { mapJoseError } from './map-error.js';
import { MAX_TOKEN_LENGTH, precheckToken } from './precheck.js';
import type { RevocationList } from './revocations.js';
import { createVerifiedCache, unverifiedJti, type VerifiedCacheOptions } from './verified-cache.js';

/**
 * Asymmetric JWS algorithms a verifier may be configured with. HS* and `none` are absent on
 * purpose: a verifier only ever holds public keys.
 *
 * @example
 * ```ts
 * // Accept both EdDSA ids during a move to RFC 9864 `Ed25519` (JWK `alg` pinning keeps them apart).
 * createBaseTokenVerifier({ issuer, jwksUrl, algorithms: ['EdDSA', 'Ed25519'] });
 * ```
 */
export const ALLOWED_ALGORITHMS = [
  'EdDSA',
  'Ed25519',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const;

/**
 * The algorithms a verifier accepts unless `algorithms` narrows them: the three tokenladder signs
 * with (its `TOKENLADDER_SIGNING_ALG`, and any key an operator rotates to). Each is pinned per key:
 * a token is only checked against the published key of its `kid` whose JWK `alg` is the header's,
 * so an issuer that moves from EdDSA to ES256 (or back) needs no change here.
 *
 * @example
 * ```ts
 * // Only the issuer's ES256 keys, refusing EdDSA and RS256 tokens outright:
 * createBaseTokenVerifier({ issuer, jwksUrl, algorithms: ['ES256'] });
 * ```
 */
export const DEFAULT_ALGORITHMS = [
  'EdDSA',
  'ES256',
  'RS256',
] as const satisfies readonly BaseTokenAlgorithm[];

/**
 * An algorithm from {@link ALLOWED_ALGORITHMS}.
 *
 * @example
 * ```ts
 * const algorithms: BaseTokenAlgorithm[] = ['EdDSA'];
 * ```
 */
export type BaseTokenAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/**
 * Options of {@link createBaseTokenVerifier}. Give exactly one key source (`jwksUrl`, `jwks`, `key`).
 *
 * @example
 * ```ts
 * const options: BaseTokenVerifierOptions = {
 *   issuer: 'https://auth.example',
 *   jwksUrl: 'https://auth.example/.well-known/jwks.json',
 * };
 * ```
 */
export interface BaseTokenVerifierOptions extends KeySourceOptions {
  /** Expected `iss`, compared exactly (no trailing-slash or scheme normalisation). */
  issuer: string;
  /** Default audience(s) when `verify()` is called without `audience`/`baseUuid`. */
  audience?: string | string[];
  /** Base-Token lifetime; tokens whose `iat` is older are rejected. Default 259200 (3 days). */
  lifetimeSeconds?: number;
  /** Allowed clock skew for `exp`, `nbf` and `iat`. Default 30. */
  clockToleranceSeconds?: number;
  /** Clock for tests; defaults to the system clock. */
  currentDate?: () => Date;
  /**
   * Accepted header `alg` values; default {@link DEFAULT_ALGORITHMS} (`EdDSA`, `ES256`, `RS256`). Every
   * key is pinned to its JWK's `alg` either way (a JWK without one is never used); this only narrows.
   */
  algorithms?: BaseTokenAlgorithm[];
  /** Reuse of successful verifications (see {@link VerifiedCacheOptions}); `false` verifies every time. */
  cache?: VerifiedCacheOptions | false;
  /**
   * Revoked tokens from the issuer's feed ({@link createRevocationList}), checked on every call, after
   * the cache: a revoked token is refused within one poll interval even if it was verified before.
   */
  revocations?: RevocationList;
  /** Checks of DPoP proofs for DPoP-bound tokens (see {@link DpopOptions}); the defaults suit most services. */
  dpop?: DpopOptions;
}

/**
 * How a verifier checks DPoP proofs (RFC 9449). The replay cache is per verifier, in memory, so per
 * process: behind a load balancer, route each client to one instance (sticky routing), or a proof
 * replayed to another instance within `maxAgeSeconds` is accepted there.
 *
 * @example
 * ```ts
 * createBaseTokenVerifier({ issuer, jwksUrl, dpop: { maxAgeSeconds: 30, algorithms: ['ES256'] } });
 * ```
 */
export interface DpopOptions {
  /**
   * How long after its `iat` a proof is accepted, plus `clockToleranceSeconds`. Default 60: a proof is
   * made for one request and sent at once, so a minute covers slow networks and retries, while it bounds
   * how long a captured proof is worth anything and how many `jti`s the replay cache must hold.
   */
  maxAgeSeconds?: number;
  /** Accepted proof algorithms; default {@link DEFAULT_DPOP_ALGORITHMS} (`EdDSA`, `ES256`). */
  algorithms?: DpopAlgorithm[];
  /** Proofs the replay cache remembers (see `createDpopReplayCache`). Default 100 000. */
  replayCacheSize?: number;
}

/**
 * The request a DPoP-bound token came with: its `DPoP` header and what the proof must name.
 *
 * @example
 * ```ts
 * const dpop: DpopRequest = { proof: request.headers.get('DPoP') ?? undefined, method: request.method, url: request.url };
 * ```
 */
export interface DpopRequest {
  /** The `DPoP` header's value; `undefined` when absent (refused as `dpop_proof_missing`). */
  proof: string | undefined;
  /** The request method (`htm`). */
  method: string;
  /** The URL the client addressed: behind a proxy the public URL, not the one the service sees (`htu`). */
  url: string;
}

/**
 * Per-call audience: `baseUuid` is shorthand for `audience: 'urn:tokenladder:base:<uuid>'`.
 *
 * @example
 * ```ts
 * await verifier.verify(token, { baseUuid: c.req.param('base_uuid') });
 * ```
 */
export interface VerifyOptions {
  audience?: string;
  baseUuid?: string;
  /**
   * Give it when the token came as `Authorization: DPoP <token>`: the token must then be DPoP-bound and
   * the proof valid for this request (checked on every call, cache or not). Without it a DPoP-bound
   * token is refused (`dpop_binding_required`): a bound token sent as `Bearer` is worth nothing.
   */
  dpop?: DpopRequest;
  /**
   * The client's IP address, for tokens that carry `cidr` (from an API-Token with `allowed_networks`):
   * such a token is refused (`token_address_not_allowed`) unless it lies in one of them, and refused
   * when this is not given (fail closed). Behind a proxy, pass the address the proxy saw (e.g. from a
   * header only your proxy sets), never a client-supplied `X-Forwarded-For` taken at face value.
   */
  clientAddress?: string;
}

/**
 * A configured Base-Token verifier.
 *
 * @example
 * ```ts
 * const claims = await verifier.verify(token, { baseUuid });
 * ```
 */
export interface BaseTokenVerifier {
  /**
   * Verifies a Base-Token and returns its claims.
   *
   * A DPoP-bound token (`cnf.jkt`) passes only with `opts.dpop` and a valid proof for this request.
   *
   * @throws BaseTokenError for every rejected token or proof (401) or unreachable JWKS (503).
   * @throws TypeError if no audience is known (neither configured nor given).
   */
  verify(token: string, opts?: VerifyOptions): Promise<BaseTokenClaims>;
  /** The proof algorithms this verifier accepts (for `WWW-Authenticate: DPoP algs="…"`). */
  readonly dpopAlgorithms: readonly string[];
}

const DEFAULT_LIFETIME_SECONDS = 259_200;
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** RFC 9068 access-token claims plus `iat`; jose requires none of them by default. */
const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'sub', 'client_id'];

/**
 * A token bound to networks (`cidr`) is only good from an address inside them; without an address it
 * is refused. Checked on every call, cache hits included: the cache remembers the signature, not the caller.
 */
function checkClientAddress(claims: BaseTokenClaims, clientAddress: string | undefined): void {
  if (claims.cidr === undefined) return;
  if (typeof clientAddress !== 'string' || !networksContain(claims.cidr, clientAddress))
    throw new BaseTokenError('token_address_not_allowed');
}

function checkSeconds(name: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`Base-Token verifier: ${name} must be a finite number >= ${min}`);
  }
  return value;
}

function checkAlgorithms(algorithms: readonly string[]): string[] {
  const allowed: readonly string[] = ALLOWED_ALGORITHMS;
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((a) => allowed.includes(a))
  ) {
    throw new TypeError(
      `Base-Token verifier: algorithms must be a non-empty subset of ${allowed.join(', ')}`,
    );
  }
  return [...new Set(algorithms)];
}

function checkDpopAlgorithms(algorithms: readonly string[]): DpopAlgorithm[] {
  const allowed: readonly string[] = DPOP_ALLOWED_ALGORITHMS;
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((a) => allowed.includes(a))
  ) {
    throw new TypeError(
      `Base-Token verifier: dpop.algorithms must be a non-empty subset of ${allowed.join(', ')}`,
    );
  }
  return [...new Set(algorithms)] as DpopAlgorithm[];
}

function checkAudience(audience: string | string[] | undefined): string[] | undefined {
  if (audience === undefined) return undefined;
  const list = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a !== '')) {
    throw new TypeError('Base-Token verifier: audience must be a non-empty string or string array');
  }
  return [...list];
}

/**
 * The audiences one call accepts. An unusable `baseUuid` (usually an attacker-chosen route
 * param) can never match a token, so it is an audience mismatch rather than a crash.
 */
function callAudiences(opts: VerifyOptions | undefined, fallback: string[] | undefined): string[] {
  if (opts?.audience !== undefined && opts.baseUuid !== undefined) {
    throw new TypeError('Base-Token verifier: pass audience or baseUuid, not both');
  }
  if (opts?.baseUuid !== undefined) {
    if (typeof opts.baseUuid !== 'string' || normalizeBaseUuid(opts.baseUuid) === undefined) {
      throw new BaseTokenError('token_audience_mismatch');
    }
    return [baseAudience(opts.baseUuid)];
  }
  if (opts?.audience !== undefined) return checkAudience(opts.audience)!;
  // Fail closed: verifying without an audience would accept tokens minted for any base.
  if (fallback === undefined) throw new TypeError('Base-Token verifier: no audience configured or given');
  return fallback;
}

/**
 * Creates a verifier for tokenladder Base-Tokens (JWTs signed with EdDSA, ES256 or RS256, `typ: at+jwt`).
 * Runs on any runtime with WebCrypto and fetch (Node ≥ 20, Workers, Deno, Bun).
 *
 * Everything is pinned: algorithm allow-list, each key to its JWK's `alg` (a token whose header names
 * another alg than its key's, or a key published without `alg`, is refused as `token_key_unknown`),
 * issuer, audience, `typ`, required claims, maximum token age, clock tolerance; tokens are
 * size/shape-checked before jose and claim-checked after.
 *
 * @throws TypeError on invalid options (no or several key sources, byte/PEM keys, HS or `none` algorithms).
 * @example
 * ```ts
 * const verifier = createBaseTokenVerifier({
 *   issuer: 'https://auth.example',
 *   jwksUrl: 'https://auth.example/.well-known/jwks.json',
 * });
 * const claims = await verifier.verify(token, { baseUuid: '0f8fad5b-d9cb-469f-a165-70867728950e' });
 * if (canWrite(claims)) { ... }
 * ```
 */
export function createBaseTokenVerifier(options: BaseTokenVerifierOptions): BaseTokenVerifier {
  if (typeof options?.issuer !== 'string' || options.issuer === '') {
    throw new TypeError('Base-Token verifier: issuer must be a non-empty string');
  }
  const key = createKeySource(options);
  const defaultAudiences = checkAudience(options.audience);
  const algorithms = checkAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
  const maxTokenAge = checkSeconds('lifetimeSeconds', options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS, 1);
  const clockTolerance = checkSeconds(
    'clockToleranceSeconds',
    options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    0,
  );
  const { issuer, currentDate } = options;
  if (currentDate !== undefined && typeof currentDate !== 'function') {
    throw new TypeError('Base-Token verifier: currentDate must be a function');
  }

  const dpopAlgorithms = checkDpopAlgorithms(options.dpop?.algorithms ?? DEFAULT_DPOP_ALGORITHMS);
  const dpopMaxAge = checkSeconds('dpop.maxAgeSeconds', options.dpop?.maxAgeSeconds ?? 60, 1);
  const replay = createDpopReplayCache({ maxEntries: options.dpop?.replayCacheSize });
  const proofKeys = new Map<string, CryptoKey>();

  /** Every call, after the token checks (cached or not): a bound token needs a proof, a proof a bound token. */
  async function checkBinding(
    token: string,
    claims: BaseTokenClaims,
    dpop: DpopRequest | undefined,
    now: Date,
  ) {
    if (dpop === undefined) {
      if (claims.cnf !== undefined) throw new BaseTokenError('dpop_binding_required');
      return;
    }
    if (claims.cnf === undefined) throw new BaseTokenError('dpop_token_unbound');
    if (typeof dpop.proof !== 'string' || dpop.proof === '') throw new BaseTokenError('dpop_proof_missing');
    await verifyDpopProof(dpop.proof, {
      method: dpop.method,
      url: dpop.url,
      accessToken: token,
      jkt: claims.cnf.jkt,
      replay,
      now,
      maxAgeSeconds: dpopMaxAge,
      clockToleranceSeconds: clockTolerance,
      algorithms: dpopAlgorithms,
      keys: proofKeys,
    });
  }

  const cache = options.cache === false ? undefined : createVerifiedCache(options.cache ?? {});
  const { revocations } = options;

  async function verify(token: string, opts?: VerifyOptions): Promise<BaseTokenClaims> {
    const audience = callAudiences(opts, defaultAudiences);
    const now = currentDate?.() ?? new Date();
    const nowMs = now.getTime();
    if (cache && typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH) {
      // A hit is the exact string of a token that passed every check below (prechecks included); it
      // still answers to this call's audience, and its times were bounded when it was stored.
      const jti = unverifiedJti(token);
      const cached = jti === undefined ? undefined : cache.get(jti, token, nowMs);
      if (cached && audience.includes(cached.aud)) {
        checkClientAddress(cached, opts?.clientAddress);
        revocations?.check(cached);
        await checkBinding(token, cached, opts?.dpop, now);
        return cached;
      }
    }
    precheckToken(token);

    const jwtOptions: JWTVerifyOptions = {
      algorithms,
      issuer,
      audience,
      typ: 'at+jwt',
      requiredClaims: REQUIRED_CLAIMS,
      maxTokenAge,
      clockTolerance,
      currentDate: now,
    };
    let verified: JWTVerifyResult;
    try {
      verified = await jwtVerify(token, key, jwtOptions);
    } catch (error) {
      throw mapJoseError(error);
    }
    const claims = parseBaseTokenClaims(verified.payload, audience);
    checkClientAddress(claims, opts?.clientAddress);
    // Usable until the token would fail verification on time grounds: exp, or iat beyond the max age.
    cache?.set(
      token,
      claims,
      nowMs,
      (Math.min(claims.exp, claims.iat + maxTokenAge) + clockTolerance) * 1000,
    );
    revocations?.check(claims);
    await checkBinding(token, claims, opts?.dpop, now);
    return claims;
  }

  return { verify, dpopAlgorithms };
}
