import { MAX_TOKEN_LENGTH } from '../verify/precheck';
import { OAuthError } from './errors';

/** Parameters sent more than once are refused (RFC 6749 §3.1), except these (RFC 8707 `resource`). */
const REPEATABLE = new Set(['resource', 'audience']);
const MAX_PARAMETERS = 32;
const MAX_NAME_LENGTH = 64;

/** A form body's parameters: one value each, the repeatable ones as lists. */
export interface OAuthForm {
  get(name: string): string | undefined;
  all(name: string): string[];
}

/**
 * An OAuth endpoint's body: `application/x-www-form-urlencoded` only (RFC 6749 §3.2), so JSON and
 * anything else is `invalid_request`. A parameter with an empty value counts as absent (§3.1), one
 * sent twice is refused, unknown ones are ignored (§3.2) — after the bounds on their number and size.
 */
export function parseOAuthForm(contentType: string | undefined, body: string): OAuthForm {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded')
    throw new OAuthError(
      'invalid_request',
      'send the parameters form-encoded (Content-Type: application/x-www-form-urlencoded), not JSON',
    );
  const values = new Map<string, string[]>();
  let count = 0;
  for (const [name, value] of new URLSearchParams(body)) {
    if (++count > MAX_PARAMETERS)
      throw new OAuthError('invalid_request', `at most ${MAX_PARAMETERS} parameters`);
    if (name.length > MAX_NAME_LENGTH || value.length > MAX_TOKEN_LENGTH)
      throw new OAuthError('invalid_request', `a parameter is longer than ${MAX_TOKEN_LENGTH} characters`);
    if (value === '') continue;
    const list = values.get(name);
    if (list && !REPEATABLE.has(name))
      throw new OAuthError('invalid_request', `${safeName(name)}: sent more than once`);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return {
    get: (name) => values.get(name)?.[0],
    all: (name) => values.get(name) ?? [],
  };
}

const safeName = (name: string) => JSON.stringify(name.slice(0, MAX_NAME_LENGTH));

/** The client's credentials as sent: HTTP Basic or the form's `client_id`/`client_secret`. */
export interface ClientCredentials {
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** `basic`: a refusal answers `WWW-Authenticate: Basic` (RFC 6749 §5.2). */
  method: 'basic' | 'post' | 'none';
}

/**
 * The client authentication of a request (RFC 6749 §2.3.1): `Authorization: Basic` with the
 * form-urlencoded id and secret, or `client_id`/`client_secret` in the body, never both. Any other
 * Authorization scheme is refused rather than ignored.
 */
export function clientCredentials(authorization: string | undefined, form: OAuthForm): ClientCredentials {
  const formId = form.get('client_id');
  const formSecret = form.get('client_secret');
  if (authorization === undefined)
    return { clientId: formId, clientSecret: formSecret, method: formSecret === undefined ? 'none' : 'post' };
  const match = /^basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization);
  if (!match)
    throw new OAuthError(
      'invalid_client',
      'authenticate the client with HTTP Basic (client_id:client_secret) or client_id and client_secret in the form',
    );
  if (formSecret !== undefined)
    throw new OAuthError('invalid_request', 'authenticate the client one way only: HTTP Basic or the form');
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(match[1]!), (char) => char.charCodeAt(0)),
    );
  } catch {
    throw new OAuthError('invalid_client', 'malformed HTTP Basic credentials');
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'malformed HTTP Basic credentials');
  const clientId = formUrlDecode(decoded.slice(0, colon));
  const clientSecret = formUrlDecode(decoded.slice(colon + 1));
  if (clientId === null || clientSecret === null)
    throw new OAuthError('invalid_client', 'malformed HTTP Basic credentials');
  if (formId !== undefined && formId !== clientId)
    throw new OAuthError('invalid_request', 'client_id in the form differs from the one in HTTP Basic');
  return { clientId, clientSecret, method: 'basic' };
}

/** RFC 6749 Appendix B: the id and secret are form-urlencoded before Basic encoding. */
function formUrlDecode(text: string): string | null {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return null;
  }
}
