import { jwtVerify } from 'jose';
import { isUniqueViolation } from '../store/atomic';
import type { AuditActor } from '../audit/events';
import type { Deps } from '../deps';
import { BASE_TOKEN_TYPE } from '../tokens/base-tokens';
import { TEMP_TOKEN_AUDIENCE, TEMP_TOKEN_TYPE } from '../tokens/temp-api-tokens';
import { BASE_AUDIENCE_PREFIX } from '../verify/claims';
import { revocationStatements, type RevocationReason } from './revoke';

/**
 * Revokes one Base-Token (or one of SeaTable's temporary API-Tokens, which the exchange checks) by its
 * `jti`, published in the feed until the token expires. A temporary API-Token's Base-Tokens carry its
 * `jti` as `client_id`, so its revocation also publishes a `client` entry: they stop at verifiers too. Only a token this instance signed and that is
 * still valid counts; anything else is ignored, and the caller's answer does not tell the difference.
 * Returns whether a token was revoked.
 */
export async function revokeBaseToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config'>,
  jwt: string,
  reason: RevocationReason,
  actor: AuditActor,
): Promise<boolean> {
  let claims: {
    jti: string;
    exp: number;
    sub: string;
    base: string | null;
    kind: 'base_token' | 'temp_api_token';
  };
  try {
    const { payload, protectedHeader } = await jwtVerify(jwt, await deps.keys.verificationKeys(), {
      algorithms: ['EdDSA'],
      issuer: deps.config.issuer,
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'aud'],
      currentDate: new Date(deps.clock.now()),
    });
    const aud = payload.aud;
    const base =
      protectedHeader.typ === BASE_TOKEN_TYPE &&
      typeof aud === 'string' &&
      aud.startsWith(BASE_AUDIENCE_PREFIX)
        ? aud.slice(BASE_AUDIENCE_PREFIX.length)
        : null;
    const temp = protectedHeader.typ === TEMP_TOKEN_TYPE && aud === TEMP_TOKEN_AUDIENCE;
    if (base === null && !temp) return false;
    claims = {
      jti: payload.jti!,
      exp: payload.exp!,
      sub: payload.sub!,
      base,
      kind: temp ? 'temp_api_token' : 'base_token',
    };
  } catch {
    return false;
  }
  const already = await deps.db
    .selectFrom('revocations')
    .select('seq')
    .where('kind', '=', 'jti')
    .where('value', '=', claims.jti)
    .executeTakeFirst();
  if (already) return true;
  try {
    await commitRevocation(deps, claims, reason, actor);
  } catch (error) {
    // Revoked meanwhile by a concurrent report: done either way, and recorded once.
    if (!isUniqueViolation(error)) throw error;
  }
  return true;
}

async function commitRevocation(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  claims: { jti: string; exp: number; sub: string; base: string | null; kind: string },
  reason: RevocationReason,
  actor: AuditActor,
) {
  await deps.audit.commit(
    revocationStatements(deps, [
      { kind: 'jti', value: claims.jti, reason, tokenExpiresAt: claims.exp },
      ...(claims.kind === 'temp_api_token'
        ? [{ kind: 'client' as const, value: claims.jti, reason, tokenExpiresAt: claims.exp }]
        : []),
    ]),
    [
      {
        action: reason === 'leaked' ? 'token.leak_report' : 'base_token.revoke',
        actor,
        subjectUserId: claims.sub,
        baseId: claims.base,
        targetId: claims.jti,
        details: { token_type: claims.kind, reason },
      },
    ],
  );
}
