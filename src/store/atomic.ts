import type { Compilable } from 'kysely';

/** What one statement of an atomic write did. */
export interface StatementResult {
  rows: unknown[];
  numAffectedRows: number;
}

/**
 * Runs every statement or none. A transaction on SQLite and PostgreSQL, `batch()` on D1 (which has no
 * interactive transactions), so callers build all statements first: ids are made in app code, and a
 * race-prone step is a conditional statement whose affected-row count the caller checks afterwards.
 */
export type Atomic = (statements: readonly Compilable[]) => Promise<StatementResult[]>;

/**
 * PostgreSQL only: one transaction that runs `first`, hands its results to `build`, then runs what
 * `build` returns; answers the results of those. For a write that must read under a lock it took in
 * the same transaction (the audit log's head, src/audit/log.ts); everything else uses `atomic`.
 */
export type AtomicAfter = (
  first: readonly Compilable[],
  build: (results: StatementResult[]) => Promise<readonly Compilable[]> | readonly Compilable[],
) => Promise<StatementResult[]>;

/**
 * A unique constraint by its name (PostgreSQL reports it) and its table's columns (SQLite and D1 name
 * only those: `UNIQUE constraint failed: revocations.value`).
 */
export interface UniqueConstraint {
  name: string;
  table: string;
  columns: readonly string[];
}

/** The constraints code tells apart from the others of their table. */
export const UNIQUE = {
  /** One feed entry per revoked Base-Token (`CREATE UNIQUE INDEX revocations_jti … WHERE kind = 'jti'`). */
  revocationsJti: { name: 'revocations_jti', table: 'revocations', columns: ['value'] },
  /** The audit chain's position. */
  auditSeq: { name: 'audit_events_pkey', table: 'audit_events', columns: ['seq'] },
} as const satisfies Record<string, UniqueConstraint>;

const SQLITE_UNIQUE = /UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)/;

/**
 * True when a write failed on a UNIQUE constraint; with `constraint`, only on that one. PostgreSQL by
 * SQLSTATE 23505 and the constraint name it reports; SQLite and D1 by their message, which names the
 * columns.
 */
export function isUniqueViolation(error: unknown, constraint?: UniqueConstraint): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint: name } = error as { code?: unknown; constraint?: unknown };
  if (code === '23505') return constraint === undefined || name === constraint.name;
  const message = error instanceof Error ? error.message : String(error);
  const match = SQLITE_UNIQUE.exec(message);
  if (!match) return false;
  if (constraint === undefined) return true;
  return match[1] === constraint.columns.map((column) => `${constraint.table}.${column}`).join(', ');
}
