import { jwtVerify } from 'jose';
import { isUniqueViolation, UNIQUE } from '../store/atomic';
import type { AuditActor, AuditDetail } from '../audit/events';
import { epochSeconds, PEER_CLOCK_TOLERANCE_SECONDS } from '../clock';
import type { Deps } from '../deps';
import { SIGNING_ALGS } from '../keys/signing-keys';
import { BASE_TOKEN_TYPE } from '../tokens/base-tokens';
import { TEMP_TOKEN_AUDIENCE, TEMP_TOKEN_TYPE } from '../tokens/temp-api-tokens';
import { BASE_AUDIENCE_PREFIX } from '../verify/claims';
import { entriesRevoking } from './feed';
import { revocationStatements } from './revoke';
import { RULES } from './rules';

/**
 * Live `jti` entries per source token (`client_id`) at most. Anyone holding a Base-Token may revoke it,
 * so without a bound one API-Token could grow the feed by one entry per exchange. Past the bound, a
 * revocation instead publishes (or moves forward) the source's single `client` entry up to that
 * token (its `gen`, or for a token without one its `iat`): the token is refused all the same, and so
 * is every Base-Token of that source exchanged before it. The feed holds at most this many jti entries plus one entry per source.
 */
export const JTI_ENTRIES_PER_SOURCE = 100;

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
  change: 'base_token_revoked' | 'leak_reported',
  actor: AuditActor,
  /** Joined to the audit record's details (a secret scanner's `url` and `source`). */
  details: Record<string, AuditDetail> = {},
): Promise<boolean> {
  let claims: {
    jti: string;
    exp: number;
    iat: number;
    gen?: number;
    sub: string;
    clientId: string;
    base: string | null;
    kind: 'base_token' | 'temp_api_token';
  };
  // Outside the try: a database that cannot answer (the key ring reloads from it) is a 503, never
  // "not ours" — that answer looks like success to the caller, and the revocation would be lost.
  const keys = await deps.keys.verificationKeys();
  try {
    const { payload, protectedHeader } = await jwtVerify(jwt, keys, {
      algorithms: [...SIGNING_ALGS],
      issuer: deps.config.issuer,
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'aud'],
      currentDate: new Date(deps.clock.now()),
      // Signed by another instance whose clock runs a little ahead: still ours, and revocable here.
      clockTolerance: PEER_CLOCK_TOLERANCE_SECONDS,
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
      iat: payload.iat!,
      ...(Number.isSafeInteger(payload.gen) && { gen: payload.gen as number }),
      sub: payload.sub!,
      // Every token we sign names its source; the subject bounds anything that would not.
      clientId: typeof payload.client_id === 'string' ? payload.client_id : payload.sub!,
      base,
      kind: temp ? 'temp_api_token' : 'base_token',
    };
  } catch {
    return false;
  }
  // Revoked already: its own entry, or its source's entry from past the per-source bound.
  const already = await entriesRevoking(deps.db, claims).executeTakeFirst();
  if (already) return true;
  try {
    await commitRevocation(deps, claims, change, actor, details);
  } catch (error) {
    // Revoked meanwhile by a concurrent report: done either way, and recorded once. Only this token's
    // own entry says so; any other conflict (a feed `seq`) is a failed write and must not pass as done.
    if (!isUniqueViolation(error, UNIQUE.revocationsJti)) throw error;
  }
  return true;
}

async function commitRevocation(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  claims: {
    jti: string;
    exp: number;
    iat: number;
    gen?: number;
    sub: string;
    clientId: string;
    base: string | null;
    kind: string;
  },
  change: 'base_token_revoked' | 'leak_reported',
  actor: AuditActor,
  details: Record<string, AuditDetail>,
) {
  const now = epochSeconds(deps.clock);
  // Decided inside the write, so concurrent revocations cannot all slip under the bound.
  const liveOfSource = (full: boolean) =>
    deps.db
      .selectFrom('revocations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'jti')
      .where('client_id', '=', claims.clientId)
      .where('expires_at', '>', now)
      .having((eb) => eb.fn.countAll(), full ? '>=' : '<', JTI_ENTRIES_PER_SOURCE);
  await deps.audit.commit(
    [
      ...revocationStatements(
        deps,
        [
          {
            kind: 'client',
            value: claims.clientId,
            change,
            revokedAt: claims.iat,
            // Up to this token: the source's Base-Tokens exchanged at its feed position or before. A
            // token without `gen` (older than 0.2) cannot say where it stands: the entry then ends
            // every Base-Token of the source exchanged before this write.
            ...(claims.gen !== undefined && { gen: claims.gen + 1 }),
          },
        ],
        liveOfSource(true),
      ),
      ...revocationStatements(
        deps,
        [{ kind: 'jti', value: claims.jti, clientId: claims.clientId, change, tokenExpiresAt: claims.exp }],
        liveOfSource(false),
      ),
      // A temporary API-Token's Base-Tokens carry its jti as client_id: they end with it.
      ...(claims.kind === 'temp_api_token'
        ? revocationStatements(deps, [
            { kind: 'client', value: claims.jti, change, tokenExpiresAt: claims.exp },
          ])
        : []),
    ],
    [
      {
        action: change === 'leak_reported' ? 'token.leak_report' : 'base_token.revoke',
        actor,
        subjectUserId: claims.sub,
        baseId: claims.base,
        targetId: claims.jti,
        details: { ...details, token_type: claims.kind, reason: RULES[change].reason },
      },
    ],
  );
}
