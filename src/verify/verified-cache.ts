import type { BaseTokenClaims } from './claims.js';

/**
 * Options of the verified-token cache: a signature check (Ed25519, ~100 µs of CPU) is far more than
 * serving a typical request, and a client sends the same Base-Token for many requests.
 *
 * @example
 * ```ts
 * createBaseTokenVerifier({ issuer, jwksUrl, cache: { maxEntries: 50_000, maxAgeSeconds: 30 } });
 * createBaseTokenVerifier({ issuer, jwksUrl, cache: false }); // verify every time
 * ```
 */
export interface VerifiedCacheOptions {
  /** Tokens remembered at once (least recently used go first). Default 10 000. */
  maxEntries?: number;
  /**
   * How long a verification is reused. It bounds how long a token signed by a key that was just
   * removed from the JWKS (emergency rotation) stays accepted, on top of the JWKS cache. Default 60.
   */
  maxAgeSeconds?: number;
}

interface Entry {
  token: string;
  claims: BaseTokenClaims;
  /** Epoch ms after which the entry must not be used (the earliest of its age limit, exp and max token age). */
  until: number;
}

/**
 * Remembers successful verifications, keyed on `jti` — never on the token string alone: a
 * signature is malleable, so a hit also requires the presented token to equal, character for
 * character, the one that was verified; any other spelling is verified in full.
 */
export function createVerifiedCache(options: VerifiedCacheOptions) {
  const maxEntries = options.maxEntries ?? 10_000;
  const maxAgeMs = (options.maxAgeSeconds ?? 60) * 1000;
  const entries = new Map<string, Entry>();
  return {
    get(jti: string, token: string, nowMs: number): BaseTokenClaims | undefined {
      const entry = entries.get(jti);
      if (!entry) return undefined;
      if (entry.token !== token || entry.until <= nowMs) return undefined;
      // Most recently used last: Map keeps insertion order, so re-inserting moves it.
      entries.delete(jti);
      entries.set(jti, entry);
      return entry.claims;
    },
    set(token: string, claims: BaseTokenClaims, nowMs: number, notAfterMs: number): void {
      entries.delete(claims.jti);
      entries.set(claims.jti, { token, claims, until: Math.min(nowMs + maxAgeMs, notAfterMs) });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
  };
}

/** The `jti` of a compact JWS's payload without verifying it (only to look up the cache), or undefined. */
export function unverifiedJti(token: string): string | undefined {
  try {
    const payload = token.slice(token.indexOf('.') + 1, token.lastIndexOf('.'));
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const jti = (JSON.parse(json) as { jti?: unknown }).jti;
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    return undefined;
  }
}
