import { anonymousActor, type AuditActor } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { revokeBaseToken } from '../revocations/base-tokens';
import { revokeTokens } from '../revocations/revoke';
import { addressKey } from '../throttle/address-key';
import { hitCounter } from '../throttle/counters';
import { matchesSecret, OPAQUE_KINDS, type StoredSecrets } from '../tokens/kinds';
import { parseOpaqueToken, type OpaqueKind } from '../tokens/opaque';
import { COMPACT_JWS } from '../verify/precheck';

/** Reports per client address and window: a scanner's batch fits, a brute-force oracle does not. */
export const LEAK_REPORT_LIMIT = { limit: 30, windowSeconds: 3600 };

/**
 * A leak report (GitHub's secret-scanning partner flow): every valid token in it is revoked at once,
 * with its Base-Tokens published to the revocation feed and a record in its owner's audit log.
 * Strings that fail our checksum or JWT shape are dropped without a query. The caller learns only how
 * many strings were received, never which were tokens; reporting the same token again changes nothing.
 */
export async function reportLeakedTokens(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  tokens: readonly string[],
  clientIp: string | null,
): Promise<number> {
  const limited = await hitCounter(
    deps,
    `leak:ip:${addressKey(clientIp, deps.config.ipv6PrefixLength)}`,
    LEAK_REPORT_LIMIT,
  );
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
    else if (COMPACT_JWS.test(token)) await revokeBaseToken(deps, token, 'leak_reported', actor);
  }
  return tokens.length;
}

/** What a leak report reads of a token row; columns its kind does not have are absent. */
type ReportedToken = StoredSecrets & { owner: string; base_id?: string | null; revoked_at: number | null };

async function revokeLeakedOpaqueToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config' | 'hashToken'>,
  token: string,
  { kind, id }: { kind: OpaqueKind; id: string },
  actor: AuditActor,
) {
  const hash = await deps.hashToken(token);
  const { table, owner, tokenType } = OPAQUE_KINDS[kind];
  const row: ReportedToken | undefined = await deps.db
    .selectFrom(table)
    .selectAll()
    .select((eb) => eb.ref(owner).as('owner'))
    .where('id', '=', id)
    .executeTakeFirst();
  // The current secret, or the previous one while it still works (a grace period).
  if (!row || matchesSecret(row, hash, epochSeconds(deps.clock)) === null || row.revoked_at !== null) return;
  await revokeTokens(deps, {
    kind,
    ids: [id],
    change: 'leak_reported',
    events: [
      {
        action: 'token.leak_report',
        actor,
        subjectUserId: row.owner,
        baseId: row.base_id ?? null,
        targetId: id,
        details: { token_type: tokenType },
      },
    ],
  });
}
