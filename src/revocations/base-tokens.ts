import { jwtVerify } from 'jose';
import type { AuditActor } from '../audit/events';
import type { Deps } from '../deps';
import { BASE_TOKEN_TYPE } from '../tokens/base-tokens';
import { revocationStatements, type Revocation } from './feed';

const BASE_AUDIENCE_PREFIX = 'urn:tokenladder:base:';

/**
 * Revokes one Base-Token by its `jti` (published in the feed until the token expires). Only a token
 * this instance signed and that is still valid counts; anything else is ignored, and the caller's
 * answer does not tell the difference. Returns whether a token was revoked.
 */
export async function revokeBaseToken(deps: Deps, jwt: string, reason: Revocation['reason'], actor: AuditActor): Promise<boolean> {
  let claims: { jti: string; exp: number; sub: string; base: string };
  try {
    const { payload } = await jwtVerify(jwt, await deps.keys.verificationKeys(), {
      algorithms: ['EdDSA'],
      issuer: deps.config.issuer,
      typ: BASE_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'aud'],
      currentDate: new Date(deps.clock.now()),
    });
    const aud = payload.aud;
    if (typeof aud !== 'string' || !aud.startsWith(BASE_AUDIENCE_PREFIX)) return false;
    claims = { jti: payload.jti!, exp: payload.exp!, sub: payload.sub!, base: aud.slice(BASE_AUDIENCE_PREFIX.length) };
  } catch {
    return false;
  }
  const already = await deps.db.selectFrom('revocations').select('seq').where('kind', '=', 'jti').where('value', '=', claims.jti).executeTakeFirst();
  if (already) return true;
  await deps.audit.commit(revocationStatements(deps, [{ kind: 'jti', value: claims.jti, reason, tokenExpiresAt: claims.exp }]), [
    {
      action: reason === 'leaked' ? 'token.leak_report' : 'base_token.revoke',
      actor,
      subjectUserId: claims.sub,
      baseId: claims.base,
      targetId: claims.jti,
      details: { token_type: 'base_token', reason },
    },
  ]);
  return true;
}
