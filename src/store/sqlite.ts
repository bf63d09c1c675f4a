// Node-only: better-sqlite3 behind Kysely, plus the atomic primitive and migrations on it.
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import type { Atomic, StatementResult } from './atomic';
import type { Database } from './schema';

export interface Migration {
  /** File name as wrangler records it, e.g. `0001_init.sql`. */
  name: string;
  sql: string;
}

/** Pragmas every connection gets: WAL for concurrent readers, FK checks, a wait instead of SQLITE_BUSY. */
export function configureSqlite(raw: BetterSqlite3.Database): void {
  if (raw.name !== ':memory:' && raw.name !== '') raw.pragma('journal_mode = WAL');
  // FULL: an acknowledged token survives power loss, not only a process crash.
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
}

const WRITES = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode']);

/** Prepared statements kept per SQL text; the bound keeps a stream of distinct ad-hoc queries from growing it forever. */
const STATEMENT_CACHE_LIMIT = 500;

export function createSqliteStore(raw: BetterSqlite3.Database): { db: Kysely<Database>; atomic: Atomic } {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= STATEMENT_CACHE_LIMIT) statements.clear();
      statement = raw.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  // Kysely's SQLite driver prepares every query anew; handing it the cache makes each hot query a
  // lookup instead of a SQLite compile. (Statements are used one at a time: the driver never streams here.)
  const database = { prepare, close: () => raw.close() } as unknown as BetterSqlite3.Database;
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  // better-sqlite3 is synchronous, so this transaction cannot interleave with any other query.
  const runAll = raw.transaction((compiled: CompiledQuery[]) =>
    compiled.map((query): StatementResult => {
      const statement = prepare(query.sql);
      if (statement.reader) {
        const rows = statement.all(...query.parameters);
        // A write with RETURNING is a reader here: each row it returns is a row it changed (as D1
        // and PostgreSQL count them); a read changes nothing.
        return { rows, numAffectedRows: WRITES.has(query.query.kind) ? rows.length : 0 };
      }
      return { rows: [], numAffectedRows: statement.run(...query.parameters).changes };
    }),
  );
  const atomic: Atomic = async (queries) => runAll(queries.map((query) => query.compile()));
  return { db, atomic };
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS d1_migrations(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

/**
 * Applies the migrations not yet recorded in `d1_migrations` (the table wrangler uses, so a database
 * moves between Node and D1 as is), each in its own transaction. Returns the names applied.
 * Refuses a database that has migrations this code does not know: it was written by a newer version.
 */
export function migrateSqlite(raw: BetterSqlite3.Database, migrations: readonly Migration[]): string[] {
  raw.exec(MIGRATIONS_TABLE);
  const applied = new Set(
    (raw.prepare('SELECT name FROM d1_migrations').all() as { name: string }[]).map((row) => row.name),
  );
  const known = new Set(migrations.map((migration) => migration.name));
  const unknown = [...applied].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new Error(`database has migrations this version does not know: ${unknown.join(', ')}`);
  }
  const pending = [...migrations]
    .sort((a, b) => a.name.localeCompare(b.name))
    .filter((migration) => !applied.has(migration.name));
  const record = raw.prepare('INSERT INTO d1_migrations (name) VALUES (?)');
  for (const migration of pending) {
    raw.transaction(() => {
      raw.exec(migration.sql);
      record.run(migration.name);
    })();
  }
  return pending.map((migration) => migration.name);
}
