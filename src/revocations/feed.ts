import { epochSeconds } from '../clock';
import type { Deps } from '../deps';

// The feed's read side; every write to it is built in ./revoke.ts.

const PAGE = 1000;

/**
 * The feed after a cursor: live entries (not yet expired) with `seq` above it, oldest first. A cursor
 * ahead of the feed (a database restored from a backup) restarts the reader from the beginning.
 */
export async function readRevocations(deps: Pick<Deps, 'db' | 'clock'>, since: number, latest: number) {
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
export async function latestRevocation(deps: Pick<Deps, 'db'>): Promise<number> {
  return (
    (
      await deps.db
        .selectFrom('revocations')
        .select((eb) => eb.fn.max('seq').as('m'))
        .executeTakeFirst()
    )?.m ?? 0
  );
}
