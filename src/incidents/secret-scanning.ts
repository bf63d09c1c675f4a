import { anonymousActor, boundedText } from '../audit/events';
import type { GithubScanningKey } from '../config';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { revokeHeldToken } from '../revocations/held-tokens';

/**
 * Matches a report may hold: GitHub sends one POST per batch of matches. 100, the bound of the
 * anonymous leak report too: each match costs one lookup (and at most one revocation), so a request
 * does a bounded amount of work; the app's body limit (16 KiB by default) usually binds first.
 */
export const MAX_SCANNER_MATCHES = 100;
/** The longest `url` and `source` kept in an audit record (they are GitHub's to choose). */
export const SCANNER_URL_MAX_CHARS = 2048;
export const SCANNER_SOURCE_MAX_CHARS = 128;

/** One match a secret scanner reports (GitHub's partner format). */
export interface ScannerMatch {
  /** The string the scanner found. */
  token: string;
  /** The name of the pattern that matched it (ours, as registered with the scanner). */
  type: string;
  /** Where it was found (a file, issue or commit URL); may be empty. */
  url: string;
  /** What kind of place it was found in (`content`, `commit`, `issue_comment`, …); may be empty. */
  source: string;
}

/** `true_positive`: the string is one of our tokens (revoked now or already); else `false_positive`. */
export type ScannerLabel = 'true_positive' | 'false_positive';

/** GitHub's feedback for one match. */
export interface ScannerVerdict {
  token: string;
  type: string;
  label: ScannerLabel;
}

/** The configured keys, imported once per app for Web Crypto (runs on Node and Workers alike). */
export async function importScanningKeys(
  keys: readonly GithubScanningKey[],
): Promise<Map<string, CryptoKey>> {
  const imported = new Map<string, CryptoKey>();
  for (const { id, pem } of keys) {
    const der = base64Bytes(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----|\s+/g, ''));
    imported.set(
      id,
      await crypto.subtle.importKey('spki', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']),
    );
  }
  return imported;
}

/**
 * Checks a report's signature as GitHub makes it: `Github-Public-Key-Signature` is the base64 of a
 * DER-encoded ECDSA P-256 / SHA-256 signature over the exact body bytes, made with the key that
 * `Github-Public-Key-Identifier` names. Throws 401 (`missing_credentials`, `invalid_credentials`)
 * for a missing header, an unknown key, or a signature that does not verify; reads and writes nothing.
 */
export async function verifyScannerSignature(
  keys: ReadonlyMap<string, CryptoKey>,
  body: Uint8Array<ArrayBuffer>,
  keyId: string | undefined,
  signature: string | undefined,
): Promise<void> {
  if (!keyId || !signature)
    throw new AppError(
      'missing_credentials',
      'a secret-scanning report needs Github-Public-Key-Identifier and Github-Public-Key-Signature',
    );
  const key = keys.get(keyId);
  if (!key) throw new AppError('invalid_credentials', 'unknown Github-Public-Key-Identifier');
  const raw = /^[A-Za-z0-9+/]{1,200}={0,2}$/.test(signature)
    ? rawEcdsaSignature(base64Bytes(signature))
    : null;
  const valid =
    raw !== null &&
    (await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, body).catch(() => false));
  if (!valid) throw new AppError('invalid_credentials', 'the Github-Public-Key-Signature does not verify');
}

/**
 * A verified secret-scanning report: every match that is one of our tokens is revoked as a leak
 * report revokes it (its Base-Tokens into the feed, a `token.leak_report` record for its owner, here
 * with the scanner's `url` and `source`). No per-address limit: the scanner proved who it is, and the
 * number of matches per report is bounded. Answers one verdict per match, in order.
 */
export async function reportScannedTokens(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  matches: readonly ScannerMatch[],
  scanner: 'github',
  clientIp: string | null,
): Promise<ScannerVerdict[]> {
  const actor = anonymousActor(clientIp);
  const ours = new Map<string, boolean>();
  for (const match of matches) {
    if (ours.has(match.token)) continue;
    const revoked = await revokeHeldToken(deps, match.token, 'leak_reported', actor, {
      via: `${scanner}_secret_scanning`,
      url: boundedText(match.url, SCANNER_URL_MAX_CHARS),
      source: boundedText(match.source, SCANNER_SOURCE_MAX_CHARS),
    });
    ours.set(match.token, revoked);
  }
  return matches.map(({ token, type }) => ({
    token,
    type,
    label: ours.get(token) ? 'true_positive' : 'false_positive',
  }));
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/**
 * DER `SEQUENCE { INTEGER r, INTEGER s }` → the 64-byte `r || s` Web Crypto verifies; null for
 * anything that is not exactly that (trailing bytes, long-form lengths, integers over 32 bytes).
 */
export function rawEcdsaSignature(der: Uint8Array): Uint8Array<ArrayBuffer> | null {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const out = new Uint8Array(64);
  let at = 2;
  for (const half of [0, 1]) {
    if (der[at] !== 0x02) return null;
    const length = der[at + 1]!;
    if (length < 1 || length > 33 || at + 2 + length > der.length) return null;
    let value = der.subarray(at + 2, at + 2 + length);
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > 32) return null;
    out.set(value, half * 32 + 32 - value.length);
    at += 2 + length;
  }
  return at === der.length ? out : null;
}
