import type { Compilable, Kysely } from 'kysely';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import type { Database } from '../store/schema';

/**
 * Fixed-window counters in `throttle_counters`, shared by every process and Workers isolate (an
 * in-memory or per-location counter could be bypassed by spreading requests over them).
 *
 * A window starts at a key's first hit and lasts `windowSeconds`; the first hit after it has ended
 * starts a new one at 1. Anchoring the window at the first hit (rather than at multiples of
 * `windowSeconds`) means a burst cannot straddle a boundary to get twice the limit. A clock that
 * steps back keeps counting in the current window: it never unlocks anything early.
 */
export interface CounterLimit {
  /** Hits allowed per window. */
  limit: number;
  windowSeconds: number;
}

export interface CounterState {
  /** Hits counted in the current window (including this one, for a hit). */
  hits: number;
  /** For a hit: this hit is within the limit. For a peek: one more hit would be. */
  allowed: boolean;
  /** Seconds until the window ends (at least 1) when not allowed; 0 when allowed. */
  retryAfterSeconds: number;
  /** When the current window started (epoch seconds), null when the key has no live window. */
  windowStart: number | null;
}

type CounterDeps = Pick<Deps, 'db' | 'clock'>;

/**
 * One hit as a single portable statement (`INSERT … ON CONFLICT(key) DO UPDATE … RETURNING`, SQLite
 * ≥ 3.35, D1, PostgreSQL): concurrent hits never lose an update. Every right-hand side reads the row
 * as it was before the update. For `deps.atomic([...])`; read its row with `counterStateOf`.
 */
export function hitCounterStatement(
  db: Kysely<Database>,
  key: string,
  { windowSeconds }: CounterLimit,
  now: number,
) {
  return db
    .insertInto('throttle_counters')
    .values({ key, hits: 1, window_start: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        const expired = eb('throttle_counters.window_start', '<=', now - windowSeconds);
        return {
          hits: eb
            .case()
            .when(expired)
            .then(1)
            .else(eb('throttle_counters.hits', '+', 1))
            .end(),
          window_start: eb
            .case()
            .when(expired)
            .then(now)
            .else(eb.ref('throttle_counters.window_start'))
            .end(),
        };
      }),
    )
    .returning(['hits', 'window_start']);
}

/** What a row returned by `hitCounterStatement` means. */
export function counterStateOf(
  row: { hits: number; window_start: number },
  { limit, windowSeconds }: CounterLimit,
  now: number,
): CounterState {
  const allowed = row.hits <= limit;
  return {
    hits: row.hits,
    allowed,
    retryAfterSeconds: allowed ? 0 : secondsLeft(row.window_start, windowSeconds, now),
    windowStart: row.window_start,
  };
}

/**
 * Counts one hit on `key` and says whether it is within the limit.
 *
 * @example
 * const { allowed, retryAfterSeconds } = await hitCounter(deps, `signup:${ip}`, { limit: 20, windowSeconds: 3600 });
 * if (!allowed) throw new AppError('rate_limited', 'too many requests, retry later', retryAfterSeconds);
 */
export async function hitCounter(deps: CounterDeps, key: string, limit: CounterLimit): Promise<CounterState> {
  const now = epochSeconds(deps.clock);
  const row = await hitCounterStatement(deps.db, key, limit, now).executeTakeFirstOrThrow();
  return counterStateOf(row, limit, now);
}

/** Reads a counter without counting: would one more hit be allowed? */
export async function peekCounter(
  deps: CounterDeps,
  key: string,
  limit: CounterLimit,
): Promise<CounterState> {
  const now = epochSeconds(deps.clock);
  const row = await deps.db
    .selectFrom('throttle_counters')
    .select(['hits', 'window_start'])
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row || row.window_start <= now - limit.windowSeconds)
    return { hits: 0, allowed: true, retryAfterSeconds: 0, windowStart: null };
  const allowed = row.hits < limit.limit;
  return {
    hits: row.hits,
    allowed,
    retryAfterSeconds: allowed ? 0 : secondsLeft(row.window_start, limit.windowSeconds, now),
    windowStart: row.window_start,
  };
}

/** Forgets a key (statement form, for `deps.atomic([...])`). */
export const resetCounterStatement = (db: Kysely<Database>, key: string): Compilable =>
  db.deleteFrom('throttle_counters').where('key', '=', key);

export async function resetCounter(deps: Pick<Deps, 'db'>, key: string): Promise<void> {
  await deps.db.deleteFrom('throttle_counters').where('key', '=', key).execute();
}

/**
 * Takes back one hit counted in the window that started at `windowStart` (a request that turned out
 * not to count); nothing when that window has since been replaced.
 */
export const refundCounterStatement = (db: Kysely<Database>, key: string, windowStart: number): Compilable =>
  db
    .updateTable('throttle_counters')
    .set((eb) => ({ hits: eb('hits', '-', 1) }))
    .where('key', '=', key)
    .where('window_start', '=', windowStart)
    .where('hits', '>', 0);

/**
 * Deletes the counters under `prefix` whose window ended: they would restart at 1 anyway. One
 * statement; callers run it now and then (see src/accounts/login-throttle.ts), not per request.
 */
export async function pruneCounters(
  deps: CounterDeps,
  prefix: string,
  windowSeconds: number,
): Promise<number> {
  const now = epochSeconds(deps.clock);
  const result = await deps.db
    .deleteFrom('throttle_counters')
    .where('key', '>=', prefix)
    .where('key', '<', `${prefix}\uffff`)
    .where('window_start', '<=', now - windowSeconds)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Never 0 (a client would retry at once) and never more than a window, even after a clock step back. */
const secondsLeft = (windowStart: number, windowSeconds: number, now: number) =>
  Math.min(windowSeconds, Math.max(1, windowStart + windowSeconds - now));
