import { PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from './schema';

/**
 * The SQL dialect a Kysely instance speaks: `sqlite` (better-sqlite3 and D1, both SQLite's compiler)
 * or `postgres`. Read from the instance's own adapter, so code that hand-writes SQL picks its text
 * per dialect without any global setting.
 */
export type SqlDialect = 'sqlite' | 'postgres';

export function dialectOf(db: Pick<Kysely<Database>, 'getExecutor'>): SqlDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
