// The "nothing changed" check: a digest of every row of every table, equal before and after a request
// proves the request changed nothing. One implementation for better-sqlite3 (sync) and D1 (async).
import type Database from 'better-sqlite3';

/**
 * Tables that record attempts rather than state: a refused request is meant to add an audit record
 * (failed authentication, denied access) and to count toward throttling. Tests of those assert them
 * directly; "nothing changed" means nothing else changed. Left out of every digest unless asked.
 */
export const ATTEMPT_TABLES = ['audit_events', 'throttle_counters'];

/**
 * Columns an accepted authentication may write (one-minute resolution), so a request that authenticates
 * and is then refused (403, 404, 409) may still touch them.
 */
export const LAST_USED_COLUMNS = ['last_used_at', 'previous_last_used_at'];

export interface DigestOptions {
  /** Tables left out; ATTEMPT_TABLES by default (pass `[]` to include them). */
  ignoreTables?: readonly string[];
  /** Columns dropped from every row; none by default. */
  ignoreColumns?: readonly string[];
}

type Row = Record<string, unknown>;

// SQLite's own tables (sqlite_*) and D1's (_cf_*) are not the application's state.
const TABLES = `SELECT name FROM sqlite_master WHERE type = 'table'
  AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name`;
const rowsOf = (table: string) => `SELECT * FROM "${table}" ORDER BY rowid`;

function digest(tables: { name: string; rows: Row[] }[], { ignoreColumns = [] }: DigestOptions): string {
  return JSON.stringify(
    tables.map(({ name, rows }) => [
      name,
      rows.map((row) =>
        Object.fromEntries(Object.entries(row).filter(([column]) => !ignoreColumns.includes(column))),
      ),
    ]),
  );
}

const kept = (names: { name: string }[], { ignoreTables = ATTEMPT_TABLES }: DigestOptions) =>
  names.map(({ name }) => name).filter((name) => !ignoreTables.includes(name));

/** The digest of a better-sqlite3 database. */
export function dbDigest(raw: Database.Database, options: DigestOptions = {}): string {
  const names = kept(raw.prepare(TABLES).all() as { name: string }[], options);
  return digest(
    names.map((name) => ({ name, rows: raw.prepare(rowsOf(name)).all() as Row[] })),
    options,
  );
}

/** The part of a D1 binding the digest uses. */
export interface D1Reader {
  prepare(sql: string): { all(): Promise<{ results: unknown[] }> };
}

/** The digest of a D1 database, the same as dbDigest gives for the same rows. */
export async function d1Digest(db: D1Reader, options: DigestOptions = {}): Promise<string> {
  const names = kept((await db.prepare(TABLES).all()).results as { name: string }[], options);
  const tables = [];
  for (const name of names)
    tables.push({ name, rows: (await db.prepare(rowsOf(name)).all()).results as Row[] });
  return digest(tables, options);
}

/** The part of a node-postgres pool the digest uses. */
export interface PgReader {
  query(sql: string): Promise<{ rows: unknown[] }>;
}

/**
 * The digest of a PostgreSQL database (the public schema's tables). PostgreSQL has no rowid: rows are
 * ordered by their whole text, which is stable between two reads of the same rows.
 */
export async function pgDigest(pool: PgReader, options: DigestOptions = {}): Promise<string> {
  const names = kept(
    (
      await pool.query(
        `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename COLLATE "C"`,
      )
    ).rows as { name: string }[],
    options,
  );
  const tables = [];
  for (const name of names)
    tables.push({
      name,
      rows: (await pool.query(`SELECT * FROM "${name}" AS t ORDER BY t::text COLLATE "C"`)).rows as Row[],
    });
  return digest(tables, options);
}
