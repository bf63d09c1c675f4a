import { decodeProtectedHeader } from 'jose';
import { BaseTokenError } from './errors.js';

/**
 * Longest accepted token. Base-Tokens are ~600 chars; the cap keeps attacker-sized tokens away
 * from crypto and JSON parsing.
 *
 * @example
 * ```ts
 * if (token.length > MAX_TOKEN_LENGTH) return reject();
 * ```
 */
export const MAX_TOKEN_LENGTH = 4096;

/** The shape of a compact JWS (three base64url segments); tokenladder's server code reuses it. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** RFC 7638 SHA-256 thumbprint, base64url: 43 chars. */
const THUMBPRINT_KID = /^[A-Za-z0-9_-]{43}$/;
/** Key-bearing/key-locating headers the issuer never sets; jose ignores them, we refuse them outright. */
const FORBIDDEN_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'];

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Each segment must be canonical base64url, otherwise sibling last chars would give one token many
 * spellings: the unused low bits of the last character must be zero. O(1), no decoding.
 */
function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const value = BASE64URL.indexOf(segment[segment.length - 1]!);
  return rest === 2 ? value % 16 === 0 : value % 4 === 0;
}

/**
 * Cheap structural checks before any crypto: size, compact-JWS shape, canonical encoding, a
 * thumbprint-shaped `kid` (tokens without `kid` would match any key, or fail during rotation)
 * and no `jku`/`jwk`/`x5u`/`x5c` header.
 *
 * @throws BaseTokenError `token_malformed`
 * @example
 * ```ts
 * precheckToken(token); // throws before jwtVerify if the token is not shaped like a Base-Token
 * ```
 */
export function precheckToken(token: string): void {
  if (
    typeof token !== 'string' ||
    token.length > MAX_TOKEN_LENGTH ||
    !COMPACT_JWS.test(token) ||
    !token.split('.').every(isCanonicalBase64url)
  ) {
    throw new BaseTokenError('token_malformed');
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new BaseTokenError('token_malformed', { cause });
  }
  const { kid } = header;
  if (
    typeof kid !== 'string' ||
    !THUMBPRINT_KID.test(kid) ||
    FORBIDDEN_HEADERS.some((name) => Object.hasOwn(header, name))
  ) {
    throw new BaseTokenError('token_malformed');
  }
}
