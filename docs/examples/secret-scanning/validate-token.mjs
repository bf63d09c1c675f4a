// Checks whether a string a secret scanner matched is a well-formed tokenladder token, offline: no
// network, no dependencies (Node 18+, Deno, Bun, browsers). It tells a real token from a string that
// only looks like one; whether the token is still valid only the server knows.
//
//   node validate-token.mjs tl_api_…      # prints the kind, or "not a token" (exit code 1)
//
// Opaque tokens are `tl_<kind>_` + 16 id + 40 secret + 7 checksum characters, all lowercase base32
// (a-z, 2-7). The checksum is the CRC32 (IEEE, as zlib computes it) of everything before it, as 4
// big-endian bytes, base32-encoded (RFC 4648 alphabet, lowercase, no padding), first 7 characters.
// Base-Tokens are JWTs: no checksum, but their header and payload must be JSON objects.

const PREFIXES = { tl_acc_: 'Account-Token', tl_api_: 'API-Token' };
const OPAQUE = /^(tl_acc_|tl_api_)([a-z2-7]{56})([a-z2-7]{7})$/;
const JWT = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function crc32(text) {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i);
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function base32(bytes) {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

function jsonObject(segment) {
  try {
    const text = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * The kind of tokenladder token `token` is (`Account-Token`, `API-Token`, `Base-Token`), or null when
 * it is not one (wrong shape, wrong checksum).
 */
export function tokenKind(token) {
  const opaque = OPAQUE.exec(token);
  if (opaque) {
    const body = opaque[1] + opaque[2];
    const crc = crc32(body);
    const expected = base32([crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255]).slice(0, 7);
    return expected === opaque[3] ? PREFIXES[opaque[1]] : null;
  }
  if (JWT.test(token)) {
    const [header, payload] = token.split('.');
    const head = jsonObject(header);
    return head && typeof head.alg === 'string' && jsonObject(payload) ? 'Base-Token' : null;
  }
  return null;
}

if (typeof process !== 'undefined' && import.meta.url === `file://${process.argv[1]}`) {
  let invalid = 0;
  for (const token of process.argv.slice(2)) {
    const kind = tokenKind(token);
    if (!kind) invalid++;
    console.log(kind ?? 'not a token');
  }
  process.exitCode = invalid > 0 ? 1 : 0;
}
