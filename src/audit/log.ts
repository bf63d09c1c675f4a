import { CompiledQuery, type Compilable, type Expression, type Kysely } from 'kysely';
import { epochSeconds, type Clock } from '../clock';
import { AppError } from '../errors';
import {
  isUniqueViolation,
  UNIQUE,
  type Atomic,
  type AtomicAfter,
  type StatementResult,
} from '../store/atomic';
import { dialectOf, type SqlDialect } from '../store/dialect';
import { insertIfExists } from '../store/insert-if';
import { AUDIT_LOCK } from '../store/writer-lock';
import type { Database } from '../store/schema';
import type { Logger } from '../lib/logger';
import {
  GENESIS_HASH,
  sealAuditRow,
  type AuditRow,
  type ChainHead,
  type Sha256Hex,
  type UnsealedAuditRow,
} from './chain';
import type { AuditEvent } from './events';

export interface AuditLog {
  /**
   * Runs `statements` and appends `events` in one atomic write: the record never exists without its
   * action, and a failed record fails the action. With `onlyIf` (a query that must return a row once
   * the statements have run), the records are written only when the action took effect; callers
   * still check their own statements' results.
   */
  commit(
    statements: readonly Compilable[],
    events: readonly AuditEvent[],
    options?: { onlyIf?: Expression<unknown> },
  ): Promise<StatementResult[]>;
  /**
   * Appends records that go with no write of their own (an exchange, a failed authentication).
   * Records made in the same event-loop turn share one transaction (group commit): with
   * `synchronous = FULL` a commit costs an fsync, which one per exchange could not afford.
   */
  record(...events: AuditEvent[]): Promise<void>;
}

export interface AuditLogOptions {
  db: Kysely<Database>;
  atomic: Atomic;
  clock: Clock;
  sha256: Sha256Hex;
  /** Records older than this are deleted (null: kept forever). The newest record is always kept. */
  retentionSeconds: number | null;
  /** Runs a callback after the current turn's I/O (setImmediate on Node). */
  defer?: (callback: () => void) => void;
  /** Where a failed retention pass is reported (it never fails an action). */
  log?: Pick<Logger, 'warn'>;
  /**
   * PostgreSQL, where several instances append to one chain: every audited write first locks the
   * one-row `audit_lock` table, then reads the head and writes in the same transaction (see
   * createAuditLog). Without it (SQLite, D1) the head is kept in memory and a conflict retried.
   */
  atomicAfter?: AtomicAfter;
}

const MAX_ATTEMPTS = 8;
const MAX_GROUP = 100;
const PRUNE_EVERY_SECONDS = 3600;
/** Records deleted per retention pass at most: a bounded write, never a long lock on the hot path. */
const PRUNE_BATCH = 10_000;

const COLUMNS = [
  'seq',
  'at',
  'action',
  'outcome',
  'actor_user_id',
  'actor_token_id',
  'subject_user_id',
  'base_id',
  'target_id',
  'client_ip',
  'details',
  'prev_hash',
  'hash',
] as const;

/** D1 binds at most 100 parameters per statement: 7 rows of 13 columns. PostgreSQL takes 65 535. */
const ROWS_PER_INSERT: Record<SqlDialect, number> = {
  sqlite: Math.floor(100 / COLUMNS.length),
  postgres: Math.floor(65_535 / COLUMNS.length),
};
const INSERT_PREFIX = `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES `;
const ROW_PLACEHOLDERS = `(${COLUMNS.map(() => '?').join(', ')})`;

/** The VALUES list for `count` rows: `?` on SQLite and D1, numbered `$n` on PostgreSQL. */
function valuesList(dialect: SqlDialect, count: number): string {
  if (dialect === 'sqlite') return Array.from({ length: count }, () => ROW_PLACEHOLDERS).join(', ');
  const rows: string[] = [];
  for (let row = 0; row < count; row++) {
    const offset = row * COLUMNS.length;
    rows.push(`(${COLUMNS.map((_, column) => `$${offset + column + 1}`).join(', ')})`);
  }
  return rows.join(', ');
}

/**
 * Plain rows as multi-row INSERTs of fixed SQL, without the query builder: one per exchange is on the
 * hot path, and building each with Kysely cost more than writing it.
 */
function insertRows(dialect: SqlDialect, rows: readonly AuditRow[]): Compilable[] {
  const statements: Compilable[] = [];
  const perInsert = ROWS_PER_INSERT[dialect];
  for (let index = 0; index < rows.length; index += perInsert) {
    const chunk = rows.slice(index, index + perInsert);
    const sql = INSERT_PREFIX + valuesList(dialect, chunk.length);
    const parameters = chunk.flatMap((row) => COLUMNS.map((column) => row[column]));
    statements.push({ compile: () => CompiledQuery.raw(sql, parameters) });
  }
  return statements;
}

const defaultDefer = (callback: () => void) => {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (immediate) immediate(callback);
  else setTimeout(callback, 0);
};

/**
 * The audit log writer. Records form a hash chain (src/audit/chain.ts), so each one needs the
 * previous one's hash: writes are serialized in this process (the head is kept in memory), and
 * another process or isolate that wrote first is detected by the unique `seq` (the batch fails, the
 * head is re-read, the whole write is retried: nothing of the failed attempt was committed).
 *
 * On PostgreSQL (`atomicAfter`) several instances write at once, and each one's cached head would
 * be stale after any other's write: there every audited write locks `audit_lock` first, reads the
 * head after the lock (READ COMMITTED: it sees the previous holder's commit), and writes its rows
 * and the action in the same transaction. Appends never conflict, and since every feed entry is
 * written through here, `seq = max(seq) + 1` in src/revocations/revoke.ts commits in seq order too:
 * a poller that saw entry k has seen every entry below it.
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { db, atomic, clock, sha256, retentionSeconds, atomicAfter } = options;
  const dialect = dialectOf(db);
  const defer = options.defer ?? defaultDefer;
  let head: ChainHead | undefined;
  let lastPrune = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const pending: { events: readonly AuditEvent[]; resolve: () => void; reject: (error: unknown) => void }[] =
    [];

  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async function chainRows(from: ChainHead, events: readonly AuditEvent[], at: number): Promise<AuditRow[]> {
    const rows: AuditRow[] = [];
    let previous = from;
    for (const event of events) {
      const row: UnsealedAuditRow = {
        seq: previous.seq + 1,
        at,
        action: event.action,
        outcome: event.outcome ?? 'success',
        actor_user_id: event.actor?.userId ?? null,
        actor_token_id: event.actor?.tokenId ?? null,
        subject_user_id: event.subjectUserId ?? null,
        base_id: event.baseId ?? null,
        target_id: event.targetId ?? null,
        client_ip: event.actor?.clientIp ?? null,
        details:
          event.details && Object.keys(event.details).length > 0 ? JSON.stringify(event.details) : null,
        prev_hash: previous.hash,
      };
      const sealed = await sealAuditRow(row, sha256);
      rows.push(sealed);
      previous = sealed;
    }
    return rows;
  }

  /** At most once an hour, after a commit and outside the write queue; its failure fails nothing. */
  function schedulePrune(now: number): void {
    if (retentionSeconds === null || now - lastPrune < PRUNE_EVERY_SECONDS) return;
    lastPrune = now;
    prune(now, retentionSeconds).catch((error: unknown) =>
      options.log?.warn('audit retention pass failed', { error: String(error) }),
    );
  }

  async function prune(now: number, retentionSeconds: number): Promise<void> {
    // Records are written in time order, so everything below the first one young enough goes; the
    // newest record stays whatever its age: it is the head the next record links to.
    const firstKept = db
      .selectFrom('audit_events')
      .select('seq')
      .where('at', '>=', now - retentionSeconds)
      .orderBy('seq')
      .limit(1);
    const newest = db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('m'));
    const batchEnd = db
      .selectFrom('audit_events')
      .select((eb) => eb(eb.fn.min('seq'), '+', PRUNE_BATCH).as('end'));
    await db
      .deleteFrom('audit_events')
      .where('seq', '<', (eb) => eb.fn.coalesce(firstKept, newest))
      .where('seq', '<', batchEnd)
      .execute();
  }

  const headQuery = () =>
    db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1);

  async function readHead(): Promise<ChainHead> {
    return (await headQuery().executeTakeFirst()) ?? { seq: 0, hash: GENESIS_HASH };
  }

  const inserts = (rows: readonly AuditRow[], onlyIf: Expression<unknown> | undefined) =>
    onlyIf ? rows.map((row) => insertIfExists(db, 'audit_events', row, onlyIf)) : insertRows(dialect, rows);

  /** One attempt: the action's statements and the records, sealed after the head they follow. */
  async function write(
    statements: readonly Compilable[],
    events: readonly AuditEvent[],
    now: number,
    onlyIf: Expression<unknown> | undefined,
  ): Promise<{ results: StatementResult[]; rows: AuditRow[] }> {
    if (atomicAfter) {
      let rows: AuditRow[] = [];
      const results = await atomicAfter([AUDIT_LOCK, headQuery()], async ([, found]) => {
        const newest = found!.rows[0] as ChainHead | undefined;
        rows = await chainRows(newest ?? { seq: 0, hash: GENESIS_HASH }, events, now);
        return [...statements, ...inserts(rows, onlyIf)];
      });
      return { results, rows };
    }
    head ??= await readHead();
    const rows = await chainRows(head, events, now);
    return { results: await atomic([...statements, ...inserts(rows, onlyIf)]), rows };
  }

  const commit: AuditLog['commit'] = (statements, events, commitOptions = {}) =>
    serialized(async () => {
      const now = epochSeconds(clock);
      for (let attempt = 1; ; attempt++) {
        try {
          const { results, rows } = await write(statements, events, now, commitOptions.onlyIf);
          const written = rows.length > 0 && results[statements.length]!.numAffectedRows > 0;
          if (written) head = rows[rows.length - 1]!;
          schedulePrune(now);
          return results;
        } catch (error) {
          // Another process or isolate appended first: re-read the head and try the whole write again.
          if (!isUniqueViolation(error, UNIQUE.auditSeq)) throw error;
          head = undefined;
          if (attempt >= MAX_ATTEMPTS)
            throw new AppError('service_unavailable', 'the audit log is busy; retry shortly', 1);
        }
      }
    });

  /**
   * Writes what is pending, then what arrived meanwhile, until nothing is: records made while a
   * commit is in flight (PostgreSQL's takes several round trips) wait for it and go together in the
   * next one, rather than each turn's records queueing a transaction of their own.
   */
  let flushing = false;
  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (pending.length > 0) {
        const group = pending.splice(0, pending.length);
        for (let index = 0; index < group.length; index += MAX_GROUP) {
          const slice = group.slice(index, index + MAX_GROUP);
          try {
            await commit(
              [],
              slice.flatMap((entry) => entry.events),
            );
            for (const entry of slice) entry.resolve();
          } catch (error) {
            for (const entry of slice) entry.reject(error);
          }
        }
      }
    } finally {
      flushing = false;
    }
  }

  function record(...events: AuditEvent[]): Promise<void> {
    return new Promise((resolve, reject) => {
      pending.push({ events, resolve, reject });
      if (pending.length === 1 && !flushing) defer(() => void flush());
    });
  }

  return { commit, record };
}
