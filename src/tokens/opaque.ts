import { AppError } from '../errors';
import { base32, crc32, randomBytes, sha256Hex } from '../lib/bytes';
import { COMPACT_JWS } from '../verify/precheck';
import { OPAQUE_KIND_NAMES, OPAQUE_KINDS, type OpaqueKind } from './kinds';

export type { OpaqueKind } from './kinds';

/**
 * Opaque token format: `tl_<kind>_<id><secret><checksum>`, all lowercase base32.
 * - kind prefix (src/tokens/kinds.ts: `tl_acc_` Account-Token, `tl_api_` API-Token) makes a leaked
 *   token recognisable;
 * - id (80 bits) is the row's primary key, so one indexed lookup finds the candidate;
 * - secret carries 200 bits of randomness;
 * - checksum (CRC32 of everything before it) rejects a mistyped or truncated token before any query.
 * Only SHA-256 of the whole token is stored.
 */
const ID_CHARS = 16;
const SECRET_CHARS = 40;
const CHECKSUM_CHARS = 7;
const PREFIXES = OPAQUE_KIND_NAMES.map((kind) => OPAQUE_KINDS[kind].prefix);
const TOKEN_PATTERN = new RegExp(
  `^(${PREFIXES.join('|')})([a-z2-7]{${ID_CHARS}})([a-z2-7]{${SECRET_CHARS}})([a-z2-7]{${CHECKSUM_CHARS}})$`,
);
const KIND_OF_PREFIX = new Map(OPAQUE_KIND_NAMES.map((kind) => [OPAQUE_KINDS[kind].prefix as string, kind]));

export interface MintedToken {
  id: string;
  /** The full secret token: shown once to its owner, never stored. */
  token: string;
  /** SHA-256 hex of `token`, the only form kept at rest. */
  hash: string;
}

function checksum(body: string): string {
  const value = crc32(body);
  return base32(new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]));
}

/** A new token; with `id`, a new secret for an existing token (regenerate keeps the id). */
export async function mintOpaqueToken(
  kind: OpaqueKind,
  id: string = base32(randomBytes(10)).slice(0, ID_CHARS),
): Promise<MintedToken> {
  const secret = base32(randomBytes(25)).slice(0, SECRET_CHARS);
  const body = OPAQUE_KINDS[kind].prefix + id + secret;
  const token = body + checksum(body).slice(0, CHECKSUM_CHARS);
  return { id, token, hash: await sha256Hex(token) };
}

/** The kind and id of a well-formed token with a valid checksum, else null. Touches no database. */
export function parseOpaqueToken(token: string): { kind: OpaqueKind; id: string } | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const body = token.slice(0, token.length - CHECKSUM_CHARS);
  if (checksum(body).slice(0, CHECKSUM_CHARS) !== match[4]) return null;
  return { kind: KIND_OF_PREFIX.get(match[1]!)!, id: match[2]! };
}

/**
 * The id of an opaque token of the expected kind; rejects every other credential before any query:
 * a mistyped token (checksum), another kind of opaque token, or a Base-Token JWT.
 */
export function expectOpaqueToken(token: string, expected: OpaqueKind): string {
  const parsed = parseOpaqueToken(token);
  if (parsed?.kind === expected) return parsed.id;
  if (parsed || COMPACT_JWS.test(token)) {
    const got = parsed ? OPAQUE_KINDS[parsed.kind].name : 'a Base-Token';
    throw new AppError('wrong_token_type', `this request needs ${OPAQUE_KINDS[expected].name}, not ${got}`);
  }
  throw new AppError('token_invalid', 'the token is malformed or unknown');
}
