import { base32, crc32, randomBytes, sha256Hex } from '../lib/bytes';

/**
 * Opaque token format: `tl_<kind>_<id><secret><checksum>`, all lowercase base32.
 * - kind prefix (`acc` Account-Token, `api` API-Token) makes a leaked token recognisable;
 * - id (80 bits) is the row's primary key, so one indexed lookup finds the candidate;
 * - secret carries 200 bits of randomness;
 * - checksum (CRC32 of everything before it) rejects a mistyped or truncated token before any query.
 * Only SHA-256 of the whole token is stored.
 */
export type OpaqueKind = 'account' | 'api';

const PREFIX: Record<OpaqueKind, string> = { account: 'tl_acc_', api: 'tl_api_' };
const ID_CHARS = 16;
const SECRET_CHARS = 40;
const CHECKSUM_CHARS = 7;
const TOKEN_PATTERN = /^tl_(acc|api)_([a-z2-7]{16})([a-z2-7]{40})([a-z2-7]{7})$/;

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
  const body = PREFIX[kind] + id + secret;
  const token = body + checksum(body).slice(0, CHECKSUM_CHARS);
  return { id, token, hash: await sha256Hex(token) };
}

/** The kind and id of a well-formed token with a valid checksum, else null. Touches no database. */
export function parseOpaqueToken(token: string): { kind: OpaqueKind; id: string } | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const body = token.slice(0, token.length - CHECKSUM_CHARS);
  if (checksum(body).slice(0, CHECKSUM_CHARS) !== match[4]) return null;
  return { kind: match[1] === 'acc' ? 'account' : 'api', id: match[2]! };
}
