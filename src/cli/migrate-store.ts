// What `tokenladder migrate-store --to postgres://…` does (registered in src/cli/ops-commands.ts and
// imported only when it runs): copies everything in the SQLite database TOKENLADDER_DB into an empty
// PostgreSQL database, in one transaction, and checks the copy (row counts, every table's content, the
// audit chain) before committing. Nothing is written to the target unless the whole copy checks out;
// the SQLite file is only read.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { AuditRow } from '../audit/chain';
import { verifyAuditRows } from '../audit/chain';
import { parseEnv } from '../config';
import { sha256Hex } from '../lib/bytes';
import { kekFileOf } from '../runtime/node/kek';
import { POSTGRES_MIGRATIONS_DIR, readMigrations } from '../store/migration-files';
import { MIGRATION_NAMES } from '../store/migration-names';
import { parseInt8, redactDatabaseUrl } from '../store/postgres';
import { migratePostgres } from '../store/postgres-migrate';
import { CliError } from './exit-codes';
import { databaseInUse } from './ops-actions';

/** Every table, parents before children (foreign keys are checked row by row). */
export const STORE_TABLES = [
  'teams',
  'users',
  'workspaces',
  'bases',
  'base_members',
  'account_tokens',
  'temp_api_tokens',
  'api_tokens',
  'api_token_bases',
  'api_token_base_blocks',
  'signing_keys',
  'settings',
  'audit_events',
  'revocations',
  'throttle_counters',
] as const;

/** Rows per INSERT: far below PostgreSQL's 65 535 parameters for every table here. */
const ROWS_PER_INSERT = 500;
/** Rows read back per query when comparing and verifying. */
const PAGE = 5000;

const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** `tokenladder migrate-store --to <url>`. */
export async function migrateStore(options: { to: string }): Promise<void> {
  const env = parseEnv(process.env);
  if (!/^postgres(ql)?:\/\//.test(options.to))
    throw new CliError('--to must be a PostgreSQL URL (postgres://user:password@host:port/database)');
  if (env.TOKENLADDER_DB === ':memory:') throw new CliError('TOKENLADDER_DB is :memory:; nothing to copy');
  const source = resolve(env.TOKENLADDER_DB);
  if (!existsSync(source)) throw new CliError(`no database at ${source}; set TOKENLADDER_DB`);
  if (databaseInUse(source))
    throw new CliError(
      `${source} is open in a running process (a tokenladder server?); stop it first, so that nothing is written after the copy; nothing was changed`,
    );
  const raw = new Database(source, { readonly: true, fileMustExist: true });
  const pool = new pg.Pool({ connectionString: options.to, max: 1, connectionTimeoutMillis: 10_000 });
  try {
    const migrations = (
      raw.prepare('SELECT name FROM d1_migrations ORDER BY name').all() as { name: string }[]
    ).map((row) => row.name);
    if (migrations.join() !== MIGRATION_NAMES.join())
      throw new CliError(
        `${source} is not at this version's schema (${migrations.at(-1) ?? 'none'}; this version: ${MIGRATION_NAMES.at(-1)}): start this version's server on it once (it migrates the file), stop it, then copy; nothing was changed`,
      );
    let target: string[];
    try {
      target = await migratePostgres(pool, readMigrations(POSTGRES_MIGRATIONS_DIR));
    } catch (error) {
      throw new CliError(
        `could not prepare ${redactDatabaseUrl(options.to)}: ${(error as Error).message}; nothing was copied`,
      );
    }
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const counts = await copyAll(raw, client);
        const chain = await verifyAuditRows(auditRows(client), sha256Hex);
        if (!chain.ok)
          throw new CliError(
            `the copied audit chain does not verify (seq ${chain.broken?.seq}: ${chain.broken?.reason}); nothing was written`,
          );
        await client.query('COMMIT');
        const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
        console.log(
          `copied ${source} to ${redactDatabaseUrl(options.to)}: ${total} rows in ${STORE_TABLES.length} tables (${counts.audit_events} audit records, chain verified; ${counts.signing_keys} signing keys)${
            target.length > 0 ? `; applied ${target.length} migrations there first` : ''
          }`,
        );
        console.log(
          `Start every instance with TOKENLADDER_DATABASE_URL set to it and the KEK this database used: ${
            env.TOKENLADDER_KEK !== undefined
              ? 'the same TOKENLADDER_KEK'
              : `TOKENLADDER_KEK set to the contents of ${kekFileOf(env)} (or TOKENLADDER_KEK_FILE naming a copy of it)`
          }; the signing keys are sealed with it. ${source} was left as it was.`,
        );
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  } finally {
    raw.close();
    await pool.end();
  }
}

/** Copies every table (refusing a target that holds any row), then compares each table with its source. */
async function copyAll(raw: Database.Database, client: pg.PoolClient): Promise<Record<string, number>> {
  const sourceTables = (
    raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('d1_migrations', 'sqlite_sequence')",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
  const unknown = sourceTables.filter((name) => !(STORE_TABLES as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new CliError(`the source has tables this version does not copy: ${unknown.join(', ')}`);
  for (const table of STORE_TABLES) {
    const { rows } = await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
    if (rows.length > 0)
      throw new CliError(
        `the target database is not empty (${table} has rows); copy into a new, empty database; nothing was written`,
      );
  }
  const counts: Record<string, number> = {};
  // One read transaction on the source: every table from the same moment.
  raw.exec('BEGIN');
  try {
    for (const table of STORE_TABLES) {
      const columns = (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map(
        (c) => c.name,
      );
      const order = primaryKeyOrder(raw, table);
      const select = raw.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${order}`);
      let batch: unknown[][] = [];
      let count = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const values = batch.map(
          (_, row) => `(${columns.map((_, column) => `$${row * columns.length + column + 1}`).join(', ')})`,
        );
        await client.query(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`,
          batch.flat(),
        );
        batch = [];
      };
      for (const row of select.raw().iterate() as Iterable<unknown[]>) {
        batch.push(row);
        count += 1;
        if (batch.length === ROWS_PER_INSERT) await flush();
      }
      await flush();
      counts[table] = count;
      await compareTable(raw, client, table, columns, order, count);
    }
  } finally {
    raw.exec('COMMIT');
  }
  return counts;
}

const primaryKeyOrder = (raw: Database.Database, table: string) =>
  (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number }[])
    .filter((column) => column.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((column) => column.name)
    .join(', ');

/** The target's rows equal the source's, value for value, in primary-key order (bytewise on both). */
async function compareTable(
  raw: Database.Database,
  client: pg.PoolClient,
  table: string,
  columns: string[],
  order: string,
  count: number,
): Promise<void> {
  const { rows } = await client.query({ text: `SELECT count(*) AS n FROM ${table}`, types });
  if (rows[0].n !== count)
    throw new CliError(`${table}: ${rows[0].n} rows copied of ${count}; nothing was written`);
  const source = raw
    .prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${order} LIMIT ? OFFSET ?`)
    .raw();
  for (let offset = 0; offset < count; offset += PAGE) {
    const expected = source.all(PAGE, offset) as unknown[][];
    const actual = await client.query({
      text: `SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${order} LIMIT $1 OFFSET $2`,
      values: [PAGE, offset],
      types,
      rowMode: 'array',
    });
    for (let index = 0; index < expected.length; index += 1) {
      if (JSON.stringify(actual.rows[index]) !== JSON.stringify(expected[index]))
        throw new CliError(`${table}: row ${offset + index + 1} differs after the copy; nothing was written`);
    }
  }
}

/** The copied audit records in seq order, a page at a time. */
async function* auditRows(client: pg.PoolClient): AsyncIterable<AuditRow> {
  let after = -1;
  for (;;) {
    const { rows } = await client.query<AuditRow>({
      text: 'SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      values: [after, PAGE],
      types,
    });
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.seq;
  }
}
