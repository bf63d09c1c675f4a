import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import { dialectOf } from './dialect';
import type { Database } from './schema';

/**
 * Locks the one row of `audit_lock` (PostgreSQL only) until the transaction ends: every audited write
 * takes it first (src/audit/log.ts), so instances append to the chain and to the revocation feed one
 * after another, each seeing the previous one's commit.
 */
export const AUDIT_LOCK: Compilable = {
  compile: () => CompiledQuery.raw('SELECT id FROM audit_lock WHERE id = 1 FOR UPDATE', []),
};

/**
 * What a write that must not interleave with another instance's puts first: the audit lock on
 * PostgreSQL (under READ COMMITTED, each later statement then sees what the previous holder
 * committed); nothing on SQLite and D1, whose writes are serialised by the database itself.
 */
export function serialisedWrite(db: Pick<Kysely<Database>, 'getExecutor'>): Compilable[] {
  return dialectOf(db) === 'postgres' ? [AUDIT_LOCK] : [];
}
