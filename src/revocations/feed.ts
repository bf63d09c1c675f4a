import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { sql, type Kysely } from 'kysely';
import type { Database, RevocationKind } from '../store/schema';

// The feed's read side; every write to it is built in ./revoke.ts.

const PAGE = 1000;

/**
 * One feed entry: a client id (an API- or Account-Token), a client id on one base (`baseId`), a user
 * id on one base (`subject_base`), or a Base-Token's jti; times in epoch seconds.
 */
export interface RevocationEntry {
  kind: RevocationKind;
  value: string;
  /** `client_base`, `subject_base`: the base; null otherwise. */
  baseId: string | null;
  revokedAt: number;
  /** When every Base-Token the entry can match has expired; the entry leaves the feed then. */
  expiresAt: number;
  /** It refuses the Base-Tokens it matches whose `gen` is below this (see feedPosition). */
  gen: number;
}

/** A page of the feed, and the cursor to read on from. */
export interface RevocationPage {
  entries: RevocationEntry[];
  cursor: number;
  /** Whether the page reaches the newest entry. */
  complete: boolean;
  /** Whether the reader's cursor was ahead of the feed and reading restarted from the beginning. */
  reset: boolean;
}

/**
 * The feed after a cursor: live entries (not yet expired) with `seq` above it, oldest first. A cursor
 * ahead of the feed (a database restored from a backup) restarts the reader from the beginning.
 */
export async function readRevocations(
  deps: Pick<Deps, 'db' | 'clock'>,
  since: number,
  latest: number,
): Promise<RevocationPage> {
  const now = epochSeconds(deps.clock);
  const reset = since > latest;
  const from = reset ? 0 : since;
  const rows = await deps.db
    .selectFrom('revocations')
    .select(['seq', 'kind', 'value', 'base_id', 'revoked_at', 'expires_at', 'gen'])
    .where('seq', '>', from)
    .where('expires_at', '>', now)
    .orderBy('seq')
    .limit(PAGE + 1)
    .execute();
  const page = rows.slice(0, PAGE);
  const complete = rows.length <= PAGE;
  return {
    entries: page.map((row) => ({
      kind: row.kind,
      value: row.value,
      baseId: row.base_id,
      revokedAt: row.revoked_at,
      expiresAt: row.expires_at,
      gen: row.gen ?? row.seq,
    })),
    cursor: complete ? latest : page[page.length - 1]!.seq,
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

/**
 * The feed's position: the newest entry's `seq` (0 for an empty feed). An exchange reads it in the
 * same statement as the source it checks (one consistent snapshot on SQLite, D1 and PostgreSQL) and
 * signs it into the Base-Token as `gen`. Every change that takes access away writes its feed entries
 * in the same atomic write as the change, each with a `seq` above every earlier one (src/revocations/
 * revoke.ts): so an exchange that read the source before the change committed carries a `gen` below
 * the entry's and is refused, one that read it after sees the change itself. No clock is compared.
 */
export const feedPosition = sql<number>`(SELECT coalesce(max(seq), 0) FROM revocations)`;

/**
 * The feed rows that revoke one signed token (a Base-Token or a temporary API-Token): its own `jti`
 * entry, or its source's `client` entry written after it was issued (what a revocation past the
 * per-source bound on jti entries publishes): by `gen` when the token carries one, else by `iat`.
 * Selects `seq`; a row means revoked.
 */
export function entriesRevoking(
  db: Kysely<Database>,
  token: { jti: string; clientId: string; iat: number; gen?: number },
) {
  return db
    .selectFrom('revocations')
    .select('seq')
    .where((eb) =>
      eb.or([
        eb.and([eb('kind', '=', 'jti'), eb('value', '=', token.jti)]),
        eb.and([
          eb('kind', '=', 'client'),
          eb('value', '=', token.clientId),
          token.gen === undefined
            ? eb('revoked_at', '>=', token.iat)
            : eb(sql<number>`coalesce(gen, seq)`, '>', token.gen),
        ]),
      ]),
    );
}

/**
 * The feed rows that refuse one Base-Token, as a verifier reading the whole feed would: its `jti`
 * entry, or an entry for its source (`client`), its source on its base (`client_base`) or its subject
 * on its base (`subject_base`) written after it was exchanged (by `gen`, else by `iat`). Selects
 * `seq`; a row means refused. For introspection, which must tell the same truth as the feed.
 */
export function entriesRefusing(
  db: Kysely<Database>,
  token: { jti: string; clientId: string; sub: string; baseId: string; iat: number; gen?: number },
) {
  return db
    .selectFrom('revocations')
    .select('seq')
    .where((eb) => {
      const after =
        token.gen === undefined
          ? eb('revoked_at', '>=', token.iat)
          : eb(sql<number>`coalesce(gen, seq)`, '>', token.gen);
      return eb.or([
        eb.and([eb('kind', '=', 'jti'), eb('value', '=', token.jti)]),
        eb.and([eb('kind', '=', 'client'), eb('value', '=', token.clientId), after]),
        eb.and([
          eb('kind', '=', 'client_base'),
          eb('value', '=', token.clientId),
          eb('base_id', '=', token.baseId),
          after,
        ]),
        eb.and([
          eb('kind', '=', 'subject_base'),
          eb('value', '=', token.sub),
          eb('base_id', '=', token.baseId),
          after,
        ]),
      ]);
    })
    .limit(1);
}
