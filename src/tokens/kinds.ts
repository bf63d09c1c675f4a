import { AppError } from '../errors';
import { parseOpaqueToken, type OpaqueKind } from './opaque';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const NAMES: Record<OpaqueKind, string> = { account: 'an Account-Token', api: 'an API-Token' };

/**
 * The id of an opaque token of the expected kind; rejects every other credential before any query:
 * a mistyped token (checksum), another kind of opaque token, or a Base-Token JWT.
 */
export function expectOpaqueToken(token: string, expected: OpaqueKind): string {
  const parsed = parseOpaqueToken(token);
  if (parsed?.kind === expected) return parsed.id;
  if (parsed || JWT_SHAPE.test(token)) {
    const got = parsed ? NAMES[parsed.kind] : 'a Base-Token';
    throw new AppError('wrong_token_type', `this request needs ${NAMES[expected]}, not ${got}`);
  }
  throw new AppError('token_invalid', 'the token is malformed or unknown');
}
