import type { Compilable } from 'kysely';

/** What one statement of an atomic write did. */
export interface StatementResult {
  rows: unknown[];
  numAffectedRows: number;
}

/**
 * Runs every statement or none. A transaction on SQLite, `batch()` on D1 (which has no interactive
 * transactions), so callers build all statements first: ids are made in app code, and a race-prone
 * step is a conditional statement whose affected-row count the caller checks afterwards.
 */
export type Atomic = (statements: readonly Compilable[]) => Promise<StatementResult[]>;

/** True when a write failed on a UNIQUE constraint (SQLite, D1, PostgreSQL wording). */
export function isUniqueViolation(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /UNIQUE constraint failed|duplicate key value violates unique constraint/i.test(message);
}
