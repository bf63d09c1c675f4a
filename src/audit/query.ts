import type { Kysely } from 'kysely';
import type { Principal } from '../accounts/principal';
import { isSystemAdmin, type Caller } from '../accounts/operator';
import type { AuditActor } from './events';
import type { Deps } from '../deps';
import { forbidden } from '../errors';
import type { AuditOutcome, Database } from '../store/schema';
import { verifyAuditRows, type AuditRow, type ChainReport, type Sha256Hex } from './chain';

export interface AuditFilters {
  /** An action name, or a prefix ending in `.` or `.*` (`api_token.*`). */
  action?: string;
  outcome?: AuditOutcome;
  /** Records where this user acted or was acted on. */
  user?: string;
  base?: string;
  /** Records about this token: as the target, or as the token that acted. */
  token?: string;
  /** Epoch seconds, inclusive. */
  since?: number;
  until?: number;
  /** Cursor: records older than this seq (newest first). */
  before?: number;
  limit: number;
}

/** Records examined per page at most: the table has no secondary index (migrations/0003), so reads are bounded walks down `seq`. */
export const AUDIT_SCAN_WINDOW = 50_000;

/**
 * The records a caller may read, newest first: system admins everything; everyone else what they
 * did or what was done to them, plus everything about the bases they administer.
 *
 * One page looks at one window of AUDIT_SCAN_WINDOW records below the cursor. It may hold fewer than
 * `limit` events (even none) with a `next_cursor`: the caller keeps following `next_cursor` until it
 * is null, which happens only once the oldest record (or, with `since`, that time) is reached.
 */
export async function listAuditEvents(
  deps: Pick<Deps, 'db'>,
  principal: Principal,
  filters: AuditFilters,
  window = AUDIT_SCAN_WINDOW,
): Promise<AuditPage> {
  const bounds = await deps.db
    .selectFrom('audit_events')
    .select((eb) => [eb.fn.min('seq').as('first'), eb.fn.max('seq').as('last')])
    .executeTakeFirst();
  const first = bounds?.first ?? null;
  const last = bounds?.last ?? null;
  if (first === null || last === null) return { events: [], nextCursor: null };
  const top = Math.min(filters.before ?? last + 1, last + 1);
  const floor = Math.max(first, top - window);
  let query = deps.db.selectFrom('audit_events').selectAll().where('seq', '<', top).where('seq', '>=', floor);
  if (principal.role !== 'system_admin') {
    const adminBases = deps.db
      .selectFrom('base_members')
      .select('base_id')
      .where('user_id', '=', principal.userId)
      .where('permission', '=', 'admin');
    query = query.where((eb) =>
      eb.or([
        eb('subject_user_id', '=', principal.userId),
        eb('actor_user_id', '=', principal.userId),
        eb('base_id', 'in', adminBases),
      ]),
    );
  }
  if (filters.action !== undefined) {
    const prefix = /^(.*\.)\*?$/.exec(filters.action)?.[1];
    // A prefix is matched with substr, not LIKE: `_` in action names is a LIKE wildcard.
    query = prefix
      ? query.where((eb) => eb(eb.fn('substr', ['action', eb.val(1), eb.val(prefix.length)]), '=', prefix))
      : query.where('action', '=', filters.action);
  }
  if (filters.outcome !== undefined) query = query.where('outcome', '=', filters.outcome);
  if (filters.user !== undefined) {
    const user = filters.user;
    query = query.where((eb) => eb.or([eb('subject_user_id', '=', user), eb('actor_user_id', '=', user)]));
  }
  if (filters.base !== undefined) query = query.where('base_id', '=', filters.base);
  if (filters.token !== undefined) {
    const token = filters.token;
    query = query.where((eb) => eb.or([eb('target_id', '=', token), eb('actor_token_id', '=', token)]));
  }
  if (filters.since !== undefined) query = query.where('at', '>=', filters.since);
  if (filters.until !== undefined) query = query.where('at', '<=', filters.until);
  const rows = await query
    .orderBy('seq', 'desc')
    .limit(filters.limit + 1)
    .execute();
  const page = rows.slice(0, filters.limit);
  if (rows.length > filters.limit)
    return { events: page.map(auditRecordOf), nextCursor: page[page.length - 1]!.seq };
  // The window is exhausted: continue below it, unless it reached the oldest record or, records being
  // written in time order, a time before `since`.
  let more = floor > first;
  if (more && filters.since !== undefined) {
    const oldestInWindow = await deps.db
      .selectFrom('audit_events')
      .select('at')
      .where('seq', '=', floor)
      .executeTakeFirst();
    more = oldestInWindow === undefined || oldestInWindow.at >= filters.since;
  }
  return { events: page.map(auditRecordOf), nextCursor: more ? floor : null };
}

/** An audit record as the domain answers it; `at` in epoch seconds. */
export interface AuditRecord {
  seq: number;
  at: number;
  action: string;
  outcome: AuditOutcome;
  actor: AuditActor;
  subjectUserId: string | null;
  baseUuid: string | null;
  targetId: string | null;
  details: Record<string, unknown> | null;
  hash: string;
}

/** A page of records, newest first; `nextCursor` is the `before` of the next page, null at the end. */
export interface AuditPage {
  events: AuditRecord[];
  nextCursor: number | null;
}

export function auditRecordOf(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    at: row.at,
    action: row.action,
    outcome: row.outcome,
    actor: { userId: row.actor_user_id, tokenId: row.actor_token_id, clientIp: row.client_ip },
    subjectUserId: row.subject_user_id,
    baseUuid: row.base_id,
    targetId: row.target_id,
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    hash: row.hash,
  };
}

/** Checks the whole chain (see verifyAuditChain), for system admins and the operator. */
export async function checkAuditChain(
  deps: Pick<Deps, 'db' | 'hashToken'>,
  caller: Caller,
): Promise<ChainReport> {
  if (!isSystemAdmin(caller)) throw forbidden('only system admins check the audit chain');
  return verifyAuditChain(deps.db, deps.hashToken);
}

/** Checks the whole chain, reading it in pages so a long log does not sit in memory at once. */
export async function verifyAuditChain(
  db: Kysely<Database>,
  sha256: Sha256Hex,
  pageSize = 1000,
): Promise<ChainReport> {
  async function* rows() {
    let after = 0;
    for (;;) {
      const page = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(pageSize)
        .execute();
      yield* page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }
  return verifyAuditRows(rows(), sha256);
}
