import { anonymousActor, type AuditActor } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { constantTimeEqual } from '../lib/bytes';
import { revokeBaseToken } from '../revocations/base-tokens';
import { revocationStatements, sourceRevocations } from '../revocations/feed';
import { hitCounter } from '../throttle/counters';
import { parseOpaqueToken, type OpaqueKind } from '../tokens/opaque';

/** Reports per client address and window: a scanner's batch fits, a brute-force oracle does not. */
export const LEAK_REPORT_LIMIT = { limit: 30, windowSeconds: 3600 };

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * A leak report (GitHub's secret-scanning partner flow): every valid token in it is revoked at once,
 * with its Base-Tokens published to the revocation feed and a record in its owner's audit log.
 * Strings that fail our checksum or JWT shape are dropped without a query. The caller learns only how
 * many strings were received, never which were tokens; reporting the same token again changes nothing.
 */
export async function reportLeakedTokens(
  deps: Deps,
  tokens: readonly string[],
  clientIp: string | null,
): Promise<number> {
  const limited = await hitCounter(deps, `leak:ip:${clientIp ?? 'unknown'}`, LEAK_REPORT_LIMIT);
  if (!limited.allowed)
    throw new AppError(
      'rate_limited',
      'too many leak reports from this address; retry later',
      limited.retryAfterSeconds,
    );
  const actor = anonymousActor(clientIp);
  for (const token of new Set(tokens)) {
    const opaque = parseOpaqueToken(token);
    if (opaque) await revokeLeakedOpaqueToken(deps, token, opaque, actor);
    else if (JWT_SHAPE.test(token)) await revokeBaseToken(deps, token, 'leaked', actor);
  }
  return tokens.length;
}

async function revokeLeakedOpaqueToken(
  deps: Deps,
  token: string,
  { kind, id }: { kind: OpaqueKind; id: string },
  actor: AuditActor,
) {
  const hash = await deps.hashToken(token);
  const now = epochSeconds(deps.clock);
  if (kind === 'api') {
    const row = await deps.db
      .selectFrom('api_tokens')
      .select([
        'created_by',
        'base_id',
        'secret_hash',
        'previous_secret_hash',
        'previous_secret_expires_at',
        'revoked_at',
      ])
      .where('id', '=', id)
      .executeTakeFirst();
    // The current secret, or the previous one while it still works (a grace period).
    const matches =
      row !== undefined &&
      (constantTimeEqual(row.secret_hash, hash) ||
        (row.previous_secret_hash !== null &&
          (row.previous_secret_expires_at ?? 0) > now &&
          constantTimeEqual(row.previous_secret_hash, hash)));
    if (!matches || row.revoked_at !== null) return;
    const applied = deps.db
      .selectFrom('api_tokens')
      .select('id')
      .where('id', '=', id)
      .where('revoked_at', '=', now);
    await deps.audit.commit(
      [
        deps.db
          .updateTable('api_tokens')
          .set({ revoked_at: now, updated_at: now })
          .where('id', '=', id)
          .where('revoked_at', 'is', null),
        ...revocationStatements(deps, sourceRevocations([id], 'leaked'), applied),
      ],
      [
        {
          action: 'token.leak_report',
          actor,
          subjectUserId: row.created_by,
          baseId: row.base_id,
          targetId: id,
          details: { token_type: 'api_token' },
        },
      ],
      { onlyIf: applied },
    );
    return;
  }
  const row = await deps.db
    .selectFrom('account_tokens')
    .select(['user_id', 'secret_hash', 'revoked_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(row.secret_hash, hash) || row.revoked_at !== null) return;
  const applied = deps.db
    .selectFrom('account_tokens')
    .select('id')
    .where('id', '=', id)
    .where('revoked_at', '=', now);
  await deps.audit.commit(
    [
      deps.db
        .updateTable('account_tokens')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null),
      ...revocationStatements(deps, sourceRevocations([id], 'leaked'), applied),
    ],
    [
      {
        action: 'token.leak_report',
        actor,
        subjectUserId: row.user_id,
        targetId: id,
        details: { token_type: 'account_token' },
      },
    ],
    { onlyIf: applied },
  );
}
