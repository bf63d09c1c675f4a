import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { BaseTokenError } from './errors.js';
import { mapJoseError } from './map-error.js';

/**
 * Proof algorithms {@link verifyDpopProof} can accept: asymmetric only. `none` and HS* can never be on
 * the list: a proof proves possession of a *private* key, and the verifier only ever sees the public one.
 *
 * @example
 * ```ts
 * createBaseTokenVerifier({ issuer, jwksUrl, dpop: { algorithms: ['EdDSA', 'ES256', 'PS256'] } });
 * ```
 */
export const DPOP_ALLOWED_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'PS256', 'RS256'] as const;

/**
 * Proof algorithms accepted unless narrowed (and advertised in `WWW-Authenticate: DPoP algs="…"`):
 * Ed25519 under both its names (`EdDSA`, and RFC 9864's `Ed25519`, which clients such as oauth4webapi
 * v3 write) and ES256 (P-256, what browsers' non-extractable Web Crypto keys most often are).
 *
 * @example
 * ```ts
 * DEFAULT_DPOP_ALGORITHMS; // ['EdDSA', 'Ed25519', 'ES256']
 * ```
 */
export const DEFAULT_DPOP_ALGORITHMS = [
  'EdDSA',
  'Ed25519',
  'ES256',
] as const satisfies readonly DpopAlgorithm[];

/**
 * An algorithm from {@link DPOP_ALLOWED_ALGORITHMS}.
 *
 * @example
 * ```ts
 * const algorithms: DpopAlgorithm[] = ['ES256'];
 * ```
 */
export type DpopAlgorithm = (typeof DPOP_ALLOWED_ALGORITHMS)[number];

/**
 * The proofs seen recently, to refuse a replayed `jti` (RFC 9449 §11.1). One per verifier, in memory:
 * it is **per process**. Behind a load balancer a proof replayed to another instance is not caught;
 * route a client to one instance (sticky routing) or, later, use server-provided nonces (RFC 9449 §9).
 *
 * @example
 * ```ts
 * const replay = createDpopReplayCache({ maxEntries: 100_000 });
 * ```
 */
export interface DpopReplayCache {
  /**
   * Records a proof's `jti` (scoped to its key) until `untilMs`; false if it was seen before, or if it
   * is not newer than the proofs the cache had to forget (then it cannot be told apart from a replay).
   */
  remember(key: string, iatSeconds: number, untilMs: number, nowMs: number): boolean;
}

/**
 * Options of {@link createDpopReplayCache}.
 *
 * @example
 * ```ts
 * createBaseTokenVerifier({ issuer, jwksUrl, dpop: { replayCacheSize: 200_000 } });
 * ```
 */
export interface DpopReplayCacheOptions {
  /** Proofs remembered at once. Default 100 000 (~15 MB); see {@link createDpopReplayCache} for when it is full. */
  maxEntries?: number;
}

/**
 * A bounded replay cache. When full it forgets the oldest entry but raises a *horizon* to that entry's
 * `iat`: from then on, proofs issued at or before the horizon are refused. So a forgotten `jti` can never
 * be replayed (its proof is behind the horizon), and fresh proofs keep passing: under a flood the
 * accepted window shrinks (clients with slow clocks are refused first, and retry with a new proof)
 * instead of either letting replays through (plain eviction) or refusing everyone (plain fail-closed).
 *
 * @example
 * ```ts
 * const replay = createDpopReplayCache({ maxEntries: 10 });
 * replay.remember('jkt.jti-1', iat, untilMs, Date.now()); // true, then false for the same key
 * ```
 */
export function createDpopReplayCache(options: DpopReplayCacheOptions = {}): DpopReplayCache {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('DPoP replay cache: maxEntries must be a positive integer');
  }
  const entries = new Map<string, { iat: number; until: number }>();
  let horizon = Number.NEGATIVE_INFINITY;
  return {
    remember(key, iatSeconds, untilMs, nowMs) {
      // Entries are in arrival order; drop the expired ones at the front (their proofs fail the iat check anyway).
      for (const [oldKey, entry] of entries) {
        if (entry.until > nowMs) break;
        entries.delete(oldKey);
      }
      const seen = entries.get(key);
      if ((seen !== undefined && seen.until > nowMs) || iatSeconds <= horizon) return false;
      entries.delete(key);
      entries.set(key, { iat: iatSeconds, until: untilMs });
      while (entries.size > maxEntries) {
        const [oldKey, entry] = entries.entries().next().value!;
        entries.delete(oldKey);
        horizon = Math.max(horizon, entry.iat);
      }
      return true;
    },
  };
}

/**
 * The RFC 9449 §4.3 form of an `htu` or request URL: scheme, host, port and path; no query, no
 * fragment; scheme and host lowercased, default ports removed, dot segments resolved (WHATWG URL
 * parsing). `undefined` for anything that is not an absolute http(s) URL.
 *
 * @example
 * ```ts
 * normalizeHtu('HTTPS://Rows.Example:443/bases/x/rows?limit=10'); // 'https://rows.example/bases/x/rows'
 * ```
 */
export function normalizeHtu(url: string): string | undefined {
  if (typeof url !== 'string' || !URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * base64url(SHA-256(ASCII(token))), the proof's `ath` for an access token (RFC 9449 §4.2). Web Crypto.
 *
 * @example
 * ```ts
 * const ath = await accessTokenHash(token);
 * ```
 */
export async function accessTokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return base64url.encode(new Uint8Array(digest));
}

/**
 * What {@link verifyDpopProof} checks a proof against.
 *
 * @example
 * ```ts
 * const options: DpopProofCheck = { method: 'GET', url, accessToken: token, jkt: claims.cnf.jkt, replay };
 * ```
 */
export interface DpopProofCheck {
  /** The request's method, compared exactly with `htm`. */
  method: string;
  /** The request's URL as the client addressed it (the public URL behind a proxy); query ignored. */
  url: string;
  /** The access token sent with the proof; `ath` must be its hash. */
  accessToken: string;
  /** The token's `cnf.jkt`: the proof's key must have this RFC 7638 SHA-256 thumbprint. */
  jkt: string;
  /** Replay cache (see {@link createDpopReplayCache}). */
  replay: DpopReplayCache;
  /** Verification time; default now. */
  now?: Date;
  /** How long after its `iat` a proof is accepted. Default 60. */
  maxAgeSeconds?: number;
  /** Allowed clock skew, both ways. Default 30. */
  clockToleranceSeconds?: number;
  /** Accepted `alg`s, default {@link DEFAULT_DPOP_ALGORITHMS}. */
  algorithms?: readonly DpopAlgorithm[];
  /**
   * Imported proof keys by thumbprint and alg, so a client's key is imported once, not per request.
   * Keyed on the RFC 7638 thumbprint just computed from the proof's own `jwk`, so a hit is that key.
   */
  keys?: Map<string, CryptoKey>;
}

/**
 * The checked claims of a DPoP proof.
 *
 * @example
 * ```ts
 * const { jti, iat } = await verifyDpopProof(proof, check);
 * ```
 */
export interface DpopProof {
  readonly jti: string;
  readonly iat: number;
  readonly htm: string;
  readonly htu: string;
  /** The server nonce the proof carries, if any (tokenladder issues none yet, so it is not checked). */
  readonly nonce?: string;
}

/** A proof is a few hundred characters (an RSA-4096 key makes it about 2,500). */
const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Private or secret JWK members: a proof's `jwk` must be a bare public key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const PUBLIC_KEY_TYPES = ['OKP', 'EC', 'RSA'];
const DEFAULT_MAX_AGE_SECONDS = 60;
/** Proof keys kept imported per verifier (oldest first out). */
const MAX_CACHED_KEYS = 1000;
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

const invalid = (cause?: unknown) => new BaseTokenError('dpop_proof_invalid', { cause });

function isPublicJwk(jwk: unknown): jwk is Record<string, unknown> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return false;
  const members = jwk as Record<string, unknown>;
  return (
    typeof members.kty === 'string' &&
    PUBLIC_KEY_TYPES.includes(members.kty) &&
    !PRIVATE_MEMBERS.some((name) => Object.hasOwn(members, name))
  );
}

/**
 * Verifies a DPoP proof (RFC 9449 §4.3) for one request: `typ: dpop+jwt`, an allowed asymmetric `alg`,
 * a public `jwk` whose thumbprint is `jkt`, a valid signature by that key, `htm`/`htu` of this request,
 * `iat` within `maxAgeSeconds` (and not in the future beyond the tolerance), `ath` of the access token,
 * and a `jti` not seen before (then remembered). Checks run cheapest first; the replay cache only
 * records proofs that passed everything else.
 *
 * Prefer `verifier.verify(token, { dpop: { proof, method, url } })`, which takes `jkt` from the verified
 * token and refuses a bound token without a proof.
 *
 * @throws BaseTokenError `dpop_proof_invalid`, `dpop_key_mismatch`, `dpop_method_mismatch`,
 *   `dpop_url_mismatch`, `dpop_proof_stale`, `dpop_ath_mismatch` or `dpop_proof_replayed` (all 401).
 * @example
 * ```ts
 * const replay = createDpopReplayCache();
 * await verifyDpopProof(c.req.header('DPoP')!, {
 *   method: c.req.method, url: 'https://rows.example/bases/x/rows', accessToken, jkt: claims.cnf!.jkt, replay,
 * });
 * ```
 */
export async function verifyDpopProof(proof: string, check: DpopProofCheck): Promise<DpopProof> {
  if (typeof proof !== 'string' || proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) {
    throw invalid();
  }
  const algorithms: readonly string[] = check.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (cause) {
    throw invalid(cause);
  }
  const { typ, alg, jwk } = header;
  if (typ !== 'dpop+jwt' || typeof alg !== 'string' || !algorithms.includes(alg) || !isPublicJwk(jwk)) {
    throw invalid();
  }
  // What EmbeddedJWK checks, here too, since a cached key skips it.
  if ((jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== alg))
    throw invalid();
  let thumbprint: string;
  try {
    thumbprint = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256');
  } catch (cause) {
    throw invalid(cause);
  }
  if (thumbprint !== check.jkt) throw new BaseTokenError('dpop_key_mismatch');

  let payload: Record<string, unknown>;
  const cacheKey = `${thumbprint}.${alg}`;
  try {
    const key = check.keys?.get(cacheKey) ?? EmbeddedJWK;
    let imported: CryptoKey | undefined;
    ({ payload } = await jwtVerify(
      proof,
      key === EmbeddedJWK ? async (h, t) => (imported = (await EmbeddedJWK(h, t)) as CryptoKey) : key,
      {
        algorithms: [...algorithms],
        typ: 'dpop+jwt',
        currentDate: check.now,
      },
    ));
    if (imported && check.keys) {
      check.keys.set(cacheKey, imported);
      if (check.keys.size > MAX_CACHED_KEYS) check.keys.delete(check.keys.keys().next().value!);
    }
  } catch (error) {
    const mapped = mapJoseError(error);
    throw mapped instanceof BaseTokenError ? invalid(error) : mapped;
  }

  const { jti, iat, htm, htu, ath, nonce } = payload;
  if (
    typeof jti !== 'string' ||
    jti.length === 0 ||
    jti.length > MAX_JTI_LENGTH ||
    typeof iat !== 'number' ||
    !Number.isFinite(iat) ||
    typeof htm !== 'string' ||
    typeof htu !== 'string' ||
    typeof ath !== 'string' ||
    (nonce !== undefined && typeof nonce !== 'string')
  ) {
    throw invalid();
  }
  if (htm !== check.method) throw new BaseTokenError('dpop_method_mismatch');
  const expectedHtu = normalizeHtu(check.url);
  if (expectedHtu === undefined) throw new TypeError('verifyDpopProof: url must be an absolute http(s) URL');
  if (normalizeHtu(htu) !== expectedHtu) throw new BaseTokenError('dpop_url_mismatch');

  const maxAge = check.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const tolerance = check.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const nowMs = (check.now ?? new Date()).getTime();
  const nowS = nowMs / 1000;
  if (iat > nowS + tolerance || iat < nowS - maxAge - tolerance) throw new BaseTokenError('dpop_proof_stale');

  if (ath !== (await accessTokenHash(check.accessToken))) throw new BaseTokenError('dpop_ath_mismatch');

  // After the last await: check-and-record is one synchronous step, so two concurrent uses of one jti
  // cannot both pass. Kept until the proof would be stale anyway.
  const untilMs = (iat + maxAge + tolerance) * 1000 + 1000;
  if (!check.replay.remember(`${thumbprint}.${jti}`, iat, untilMs, nowMs)) {
    throw new BaseTokenError('dpop_proof_replayed');
  }
  return Object.freeze({ jti, iat, htm, htu, ...(nonce !== undefined && { nonce: nonce as string }) });
}
