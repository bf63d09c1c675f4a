import type { Context } from 'hono';
import { base64url, constantTimeEqual } from '../lib/bytes';

/** The hidden form field every UI form carries. */
export const CSRF_FIELD = '_csrf';

/** Labels keep the tokens of different purposes apart (a sign-in token is no session token). */
export const CSRF_LABEL = {
  session: 'tokenladder-ui-csrf-v1:session',
  signIn: 'tokenladder-ui-csrf-v1:sign-in',
} as const;

/**
 * The CSRF token of a secret the browser holds only in an HttpOnly cookie: HMAC-SHA-256(secret, label).
 * A cross-site page can neither read the cookie nor compute the token; nothing is stored server-side.
 */
export async function csrfToken(secret: string, label: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(label))));
}

/** Compares the submitted token with the expected one in constant time. */
export async function csrfTokenMatches(secret: string, label: string, submitted: unknown): Promise<boolean> {
  if (typeof submitted !== 'string' || submitted.length === 0 || submitted.length > 128) return false;
  return constantTimeEqual(await csrfToken(secret, label), submitted);
}

/**
 * Defence in depth next to the token: a browser names the page a form came from in `Origin` (and
 * `Sec-Fetch-Site`). A present header must point at this site; only clients that send neither
 * (non-browsers, very old browsers) rely on the token alone.
 */
export function sameOrigin(c: Context, issuer: string): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  let host: string;
  try {
    const parsed = new URL(origin);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    if (parsed.origin === new URL(issuer).origin) return true;
    host = parsed.host;
  } catch {
    return false;
  }
  // Behind a TLS-terminating proxy the request URL says http while the page was https: compare hosts.
  return host === new URL(c.req.url).host;
}
