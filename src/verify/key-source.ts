import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
  type RemoteJWKSetOptions,
} from 'jose';
import { BaseTokenError } from './errors.js';

/**
 * Where the verifier gets its public keys: exactly one of `jwksUrl`, `jwks` or `key`.
 * Raw bytes, strings and PEM are deliberately not accepted: jose would treat them as an HMAC
 * secret, which lets anyone forge HS256 tokens with the (public) key.
 *
 * @example
 * ```ts
 * const source: KeySourceOptions = { jwksUrl: 'https://auth.example/.well-known/jwks.json' };
 * ```
 */
export interface KeySourceOptions {
  /** Pinned JWKS URL of the issuer, e.g. `https://auth.example/.well-known/jwks.json`. */
  jwksUrl?: string | URL;
  /** jose remote-JWKS options (timeouts, cache, `[customFetch]`, `[jwksCache]`); only with `jwksUrl`. */
  jwksOptions?: RemoteJWKSetOptions;
  /** A JSON Web Key Set object holding public keys. */
  jwks?: JSONWebKeySet;
  /** A public CryptoKey. */
  key?: CryptoKey;
}

/**
 * Remote JWKS defaults; the cache is tighter than jose's 10 min so an emergency key removal
 * reaches verifiers within 5 min. Override any of them via `jwksOptions`.
 *
 * @example
 * ```ts
 * createBaseTokenVerifier({ issuer, jwksUrl, jwksOptions: { ...REMOTE_JWKS_DEFAULTS, cacheMaxAge: 60_000 } });
 * ```
 */
export const REMOTE_JWKS_DEFAULTS = {
  cacheMaxAge: 300_000,
  cooldownDuration: 30_000,
  timeoutDuration: 5_000,
} as const satisfies RemoteJWKSetOptions;

/** Errors that mean "this token names no usable key", as opposed to "we could not load keys". */
const isKeySelectionError = (error: unknown): boolean =>
  error instanceof errors.JWKSNoMatchingKey ||
  error instanceof errors.JWKSMultipleMatchingKeys ||
  error instanceof errors.JOSENotSupported;

/**
 * Builds the key resolver for `jwtVerify` and validates the combination of key options.
 *
 * @throws TypeError for zero or several key sources, or a key that is not a public CryptoKey/JWKS.
 * @example
 * ```ts
 * const key = createKeySource({ jwksUrl: 'https://auth.example/.well-known/jwks.json' });
 * ```
 */
export function createKeySource(options: KeySourceOptions): JWTVerifyGetKey {
  const { jwksUrl, jwksOptions, jwks, key } = options;
  const given = [jwksUrl, jwks, key].filter((source) => source !== undefined).length;
  if (given !== 1) throw new TypeError('Base-Token verifier: give exactly one of jwksUrl, jwks, key');
  if (jwksOptions !== undefined && jwksUrl === undefined) {
    throw new TypeError('Base-Token verifier: jwksOptions requires jwksUrl');
  }
  if (jwksUrl !== undefined) return remoteKeySource(jwksUrl, jwksOptions);
  if (jwks !== undefined) return pinnedToJwkAlg(localKeySource(jwks));
  const publicKey = publicCryptoKey(key);
  const pinned = algorithmsOfKey(publicKey);
  // One key, one algorithm family: a header naming another is no key of ours (and jose would throw a
  // TypeError for it, a 500 instead of a 401).
  return async (header) => {
    if (!pinned.includes(header.alg)) throw new errors.JWKSNoMatchingKey();
    return publicKey;
  };
}

/** A jose JWKS resolver (local or remote) with the key set it currently holds. */
type KeySetResolver = JWTVerifyGetKey & { jwks(): JSONWebKeySet | undefined };

/**
 * Pins every JWKS key to its own `alg`. jose already refuses a header `alg` other than a JWK's `alg`,
 * but lets a JWK without `alg` verify any algorithm of its key type (RS256 and PS256 over one RSA key,
 * say). Here a token is only accepted when the one published JWK with its `kid` names exactly the
 * header's `alg`; a JWK without `alg`, or a `kid` published twice, is refused (`token_key_unknown`).
 * Checked once per imported key and algorithm (jose caches one CryptoKey per JWK and alg).
 */
function pinnedToJwkAlg(set: KeySetResolver): JWTVerifyGetKey {
  const checked = new WeakMap<object, string>();
  return async (header, token) => {
    const key = await set(header, token);
    if (checked.get(key) === header.alg) return key;
    const named = set.jwks()?.keys.filter((jwk) => jwk.kid === header.kid) ?? [];
    if (named.length !== 1 || named[0]!.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
    checked.set(key, header.alg!);
    return key;
  };
}

/**
 * The JWS algorithms a public CryptoKey verifies: its Web Crypto algorithm fixes them (Ed25519 →
 * EdDSA/Ed25519, ECDSA P-256 → ES256, RSASSA-PKCS1-v1_5 SHA-256 → RS256, …).
 *
 * @throws TypeError for any other key, or RSA below 2048 bits.
 */
function algorithmsOfKey(key: CryptoKey): string[] {
  const algorithm = key.algorithm as KeyAlgorithm & {
    namedCurve?: string;
    hash?: { name: string };
    modulusLength?: number;
  };
  const bits = algorithm.hash?.name.replace('SHA-', '');
  const rsa = (prefix: string) => {
    if ((algorithm.modulusLength ?? 0) < 2048)
      throw new TypeError('Base-Token verifier: RSA keys need 2048 bits or more');
    return [`${prefix}${bits}`];
  };
  switch (algorithm.name) {
    case 'Ed25519':
      return ['EdDSA', 'Ed25519'];
    case 'ECDSA': {
      const alg = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[algorithm.namedCurve ?? ''];
      if (alg) return [alg];
      break;
    }
    case 'RSASSA-PKCS1-v1_5':
      return rsa('RS');
    case 'RSA-PSS':
      return rsa('PS');
  }
  throw new TypeError('Base-Token verifier: key must be an Ed25519, ECDSA (P-256/384/521) or RSA public key');
}

function remoteKeySource(jwksUrl: string | URL, jwksOptions: RemoteJWKSetOptions | undefined) {
  if (typeof jwksUrl !== 'string' && !(jwksUrl instanceof URL)) {
    throw new TypeError('Base-Token verifier: jwksUrl must be a string or URL');
  }
  const remote = createRemoteJWKSet(new URL(jwksUrl), { ...REMOTE_JWKS_DEFAULTS, ...jwksOptions });
  // Anything but "no matching key" comes from fetching/parsing the set (network error, timeout,
  // non-200, bad JSON, invalid set): the token may be fine, so answer 503 rather than 401.
  const resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    try {
      return await remote(header, token);
    } catch (cause) {
      if (isKeySelectionError(cause)) throw cause;
      throw new BaseTokenError('jwks_unavailable', { cause });
    }
  };
  return pinnedToJwkAlg(Object.assign(resolve, { jwks: () => remote.jwks() }));
}

function localKeySource(jwks: JSONWebKeySet): KeySetResolver {
  const keys: unknown = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new TypeError('Base-Token verifier: jwks must be a JSON Web Key Set');
  // Fail at startup rather than per request: private or symmetric members never belong here.
  for (const jwk of keys as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null || 'd' in jwk || 'k' in jwk) {
      throw new TypeError('Base-Token verifier: jwks must contain only public asymmetric keys');
    }
  }
  try {
    return createLocalJWKSet(jwks);
  } catch (cause) {
    throw new TypeError('Base-Token verifier: invalid jwks', { cause });
  }
}

function publicCryptoKey(key: unknown): CryptoKey {
  if (!(key instanceof CryptoKey) || key.type !== 'public') {
    throw new TypeError('Base-Token verifier: key must be a public CryptoKey (never bytes, strings or PEM)');
  }
  return key;
}
