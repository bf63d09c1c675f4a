import { sql, type Compilable, type Expression } from 'kysely';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import type { RevocationKind } from '../store/schema';

/** Clock skew a verifier allows on `iat`/`exp`: entries outlive the tokens they match by this much. */
const VERIFIER_SKEW_SECONDS = 60;

export interface Revocation {
  /** `client`: Base-Tokens whose `client_id` is this token id; `jti`: one Base-Token. */
  kind: RevocationKind;
  value: string;
  reason: 'deleted' | 'disabled' | 'regenerated' | 'revoked' | 'leaked' | 'kill_switch';
  /** For a `jti`: when that Base-Token expires. A source token's entry lasts one Base-Token lifetime. */
  tokenExpiresAt?: number;
}

/**
 * Statements that publish revocations to the feed, for the same atomic write as the action itself.
 * `seq` (the feed cursor) is computed inside the write, so concurrent writers never share one. With
 * `onlyIf`, the entries are written only when the action took effect. Expired entries are dropped
 * here too (the newest row stays, so `seq` never goes back).
 */
export function revocationStatements(
  deps: Deps,
  revocations: readonly Revocation[],
  onlyIf?: Expression<unknown>,
): Compilable[] {
  if (revocations.length === 0) return [];
  const now = epochSeconds(deps.clock);
  const { db } = deps;
  const inserts = revocations.map((revocation) => {
    const expiresAt =
      (revocation.tokenExpiresAt ?? now + deps.config.baseTokenTtlSeconds) + VERIFIER_SKEW_SECONDS;
    const select = db.selectNoFrom((eb) => [
      db.selectFrom('revocations').select(sql<number>`coalesce(max(seq), 0) + 1`.as('next')).as('seq'),
      eb.val(revocation.kind).as('kind'),
      eb.val(revocation.value).as('value'),
      eb.val(now).as('revoked_at'),
      eb.val(expiresAt).as('expires_at'),
      eb.val(revocation.reason).as('reason'),
    ]);
    return db
      .insertInto('revocations')
      .columns(['seq', 'kind', 'value', 'revoked_at', 'expires_at', 'reason'])
      .expression(onlyIf ? select.where((eb) => eb.exists(onlyIf)) : select);
  });
  const prune = db
    .deleteFrom('revocations')
    .where('expires_at', '<', now)
    .where(
      'seq',
      '<',
      db.selectFrom('revocations').select((eb) => eb.fn.max('seq').as('m')),
    );
  return [...inserts, prune];
}

/** Source-token revocations, one per token id. */
export const sourceRevocations = (ids: readonly string[], reason: Revocation['reason']): Revocation[] =>
  ids.map((value) => ({ kind: 'client', value, reason }));

const PAGE = 1000;

/**
 * The feed after a cursor: live entries (not yet expired) with `seq` above it, oldest first. A cursor
 * ahead of the feed (a database restored from a backup) restarts the reader from the beginning.
 */
export async function readRevocations(deps: Deps, since: number, latest: number) {
  const now = epochSeconds(deps.clock);
  const reset = since > latest;
  const from = reset ? 0 : since;
  const rows = await deps.db
    .selectFrom('revocations')
    .select(['seq', 'kind', 'value', 'revoked_at', 'expires_at'])
    .where('seq', '>', from)
    .where('expires_at', '>', now)
    .orderBy('seq')
    .limit(PAGE + 1)
    .execute();
  const page = rows.slice(0, PAGE);
  const complete = rows.length <= PAGE;
  return {
    revocations: page.map(({ kind, value, revoked_at, expires_at }) => ({
      kind,
      value,
      revoked_at,
      expires_at,
    })),
    cursor: String(complete ? latest : page[page.length - 1]!.seq),
    complete,
    reset,
  };
}

/** The newest cursor, for a cheap ETag check before reading anything. */
export async function latestRevocation(deps: Deps): Promise<number> {
  return (
    (
      await deps.db
        .selectFrom('revocations')
        .select((eb) => eb.fn.max('seq').as('m'))
        .executeTakeFirst()
    )?.m ?? 0
  );
}
