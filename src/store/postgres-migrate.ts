// Node-only: applies migrations/postgres/*.sql (the same file names as migrations/, translated) to a
// PostgreSQL database. Instances that start at once take turns: the whole run is one transaction
// that first takes a transaction-level advisory lock, so the second instance waits, then finds
// everything applied. PostgreSQL's DDL is transactional: a run that fails leaves nothing behind.
import type pg from 'pg';
import type { Migration } from './sqlite';

/** The bookkeeping table (SQLite's is wrangler's d1_migrations). */
export const POSTGRES_MIGRATIONS_TABLE = 'tokenladder_migrations';

/** An arbitrary constant naming the migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 7_461_726_104;

/**
 * Applies the migrations the database lacks, in name order, and records them. Returns the names
 * applied (empty when the database was current). Refuses a database that has migrations this code
 * does not know: a newer version wrote it.
 */
export async function migratePostgres(pool: pg.Pool, migrations: readonly Migration[]): Promise<string[]> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    try {
      // The instance's session timeouts are for requests: waiting for another instance's migrations,
      // or building an index on a large table, may take longer.
      await client.query("SET LOCAL statement_timeout = '10min'");
      await client.query("SET LOCAL lock_timeout = '10min'");
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${POSTGRES_MIGRATIONS_TABLE} (
           name text COLLATE "C" PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const applied = new Set(
        (await client.query<{ name: string }>(`SELECT name FROM ${POSTGRES_MIGRATIONS_TABLE}`)).rows.map(
          (row) => row.name,
        ),
      );
      const known = new Set(migrations.map((migration) => migration.name));
      const unknown = [...applied].filter((name) => !known.has(name)).sort();
      if (unknown.length > 0) {
        throw new Error(`database has migrations this version does not know: ${unknown.join(', ')}`);
      }
      const pending = [...migrations]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .filter((migration) => !applied.has(migration.name));
      for (const migration of pending) {
        try {
          // Simple-query protocol (no parameters): a file may hold several statements.
          await client.query(migration.sql);
        } catch (error) {
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        await client.query(`INSERT INTO ${POSTGRES_MIGRATIONS_TABLE} (name) VALUES ($1)`, [migration.name]);
      }
      await client.query('COMMIT');
      return pending.map((migration) => migration.name);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

/** The names recorded as applied (for /readyz); empty when the bookkeeping table does not exist yet. */
export async function appliedPostgresMigrations(pool: pg.Pool): Promise<string[]> {
  const exists = await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
    POSTGRES_MIGRATIONS_TABLE,
  ]);
  if (exists.rows[0]?.found == null) return [];
  const rows = await pool.query<{ name: string }>(
    `SELECT name FROM ${POSTGRES_MIGRATIONS_TABLE} ORDER BY name`,
  );
  return rows.rows.map((row) => row.name);
}
