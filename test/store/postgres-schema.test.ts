// The PostgreSQL schema: migrations/postgres/ applied by migratePostgres equals schema.postgres.sql,
// holds the same file names as migrations/, and is the same schema as SQLite's (tables, columns,
// nullability, keys, indexes) apart from a listed set of PostgreSQL-only objects. Runs against the
// machine's PostgreSQL server in databases of its own (skipped, with one line, where there is none).
import { readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, POSTGRES_MIGRATIONS_DIR, readMigrations } from '../../src/store/migration-files';
import { MIGRATION_NAMES } from '../../src/store/migration-names';
import { migratePostgres, POSTGRES_MIGRATIONS_TABLE } from '../../src/store/postgres-migrate';
import { migrateSqlite } from '../../src/store/sqlite';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/postgres';

/** Objects only the PostgreSQL schema has, and why (see migrations/postgres/). */
const POSTGRES_ONLY_TABLES = ['audit_lock']; // the row every audited write locks (src/audit/log.ts)
const POSTGRES_ONLY_TRIGGERS = ['revocations_notify', 'signing_keys_notify']; // LISTEN wake-ups

const sqlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name))
    .sort();

describe('PostgreSQL migrations: file names', () => {
  it('migrations/postgres/ holds exactly the names of migrations/, which the code knows', () => {
    expect(sqlFiles(POSTGRES_MIGRATIONS_DIR)).toEqual(sqlFiles(MIGRATIONS_DIR));
    expect(sqlFiles(MIGRATIONS_DIR)).toEqual(MIGRATION_NAMES);
  });
});

const databases: TestDatabase[] = [];
const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await Promise.all(databases.map((database) => database.drop()));
});

async function freshPool(): Promise<pg.Pool> {
  const database = await createTestDatabase('tl_schema');
  databases.push(database);
  const pool = new pg.Pool({ connectionString: database.url, max: 3 });
  pools.push(pool);
  return pool;
}

/** Every catalog fact that makes two PostgreSQL schemas the same, in a stable order. */
async function catalogOf(pool: pg.Pool) {
  const q = async (text: string) => (await pool.query(text)).rows;
  return {
    columns: await q(`
      SELECT c.relname AS table, a.attnum AS position, a.attname AS column,
             format_type(a.atttypid, a.atttypmod) AS type, co.collname AS collation,
             a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_value
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '${POSTGRES_MIGRATIONS_TABLE}'
      ORDER BY 1, 2`),
    constraints: await q(`
      SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE c.relname <> '${POSTGRES_MIGRATIONS_TABLE}'
      ORDER BY 1, 2`),
    indexes: await q(`
      SELECT tablename AS table, indexname AS name, indexdef AS definition FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '${POSTGRES_MIGRATIONS_TABLE}' ORDER BY 1, 2`),
    triggers: await q(`
      SELECT c.relname AS table, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE NOT t.tgisinternal ORDER BY 1, 2`),
    functions: await q(`
      SELECT p.proname AS name, pg_get_functiondef(p.oid) AS definition
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'public' ORDER BY 1`),
    storage: await q(`
      SELECT c.relname AS table, c.reloptions AS options FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE c.relkind = 'r' AND c.reloptions IS NOT NULL ORDER BY 1`),
    rows: await q('SELECT id FROM audit_lock'),
  };
}

describe.skipIf(!(await hasPostgres()))('PostgreSQL migrations', () => {
  it('applying every migration yields exactly schema.postgres.sql', async () => {
    const migrated = await freshPool();
    expect(await migratePostgres(migrated, readMigrations(POSTGRES_MIGRATIONS_DIR))).toEqual(MIGRATION_NAMES);
    const fromSchema = await freshPool();
    await fromSchema.query(readFileSync(new URL('../../schema.postgres.sql', import.meta.url), 'utf8'));
    const catalog = await catalogOf(migrated);
    expect(catalog.columns.length).toBeGreaterThan(80);
    expect(catalog.triggers.map((row) => row.name).sort()).toEqual(POSTGRES_ONLY_TRIGGERS);
    expect(catalog.rows).toEqual([{ id: 1 }]);
    expect(catalog).toEqual(await catalogOf(fromSchema));
  });

  it('applies each migration once, even when several instances start at once', async () => {
    const pool = await freshPool();
    // Five "instances", each its own pool, migrating an empty database at the same moment.
    const url = (pool.options as { connectionString: string }).connectionString;
    const instances = Array.from({ length: 5 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    pools.push(...instances);
    const results = await Promise.all(
      instances.map((instance) => migratePostgres(instance, readMigrations(POSTGRES_MIGRATIONS_DIR))),
    );
    expect(results.filter((applied) => applied.length > 0)).toEqual([MIGRATION_NAMES]);
    expect(results.filter((applied) => applied.length === 0)).toHaveLength(4);
    const recorded = await pool.query(`SELECT name FROM ${POSTGRES_MIGRATIONS_TABLE} ORDER BY name`);
    expect(recorded.rows.map((row) => row.name)).toEqual(MIGRATION_NAMES);
    expect(await migratePostgres(pool, readMigrations(POSTGRES_MIGRATIONS_DIR))).toEqual([]);
  });

  it('refuses a database written by a newer version, and changes nothing', async () => {
    const pool = await freshPool();
    const future = { name: '9999_future.sql', sql: 'CREATE TABLE future (id text)' };
    await migratePostgres(pool, [...readMigrations(POSTGRES_MIGRATIONS_DIR), future]);
    const before = await catalogOf(pool);
    await expect(migratePostgres(pool, readMigrations(POSTGRES_MIGRATIONS_DIR))).rejects.toThrow(
      /does not know: 9999_future\.sql/,
    );
    expect(await catalogOf(pool)).toEqual(before);
  });

  it('rolls back a run that fails half-way: nothing applied, nothing recorded, nothing left', async () => {
    const pool = await freshPool();
    const broken = { name: '0009_broken.sql', sql: 'CREATE TABLE a (id text); CREATE TABLE a (id text);' };
    await expect(migratePostgres(pool, [...readMigrations(POSTGRES_MIGRATIONS_DIR), broken])).rejects.toThrow(
      /migration 0009_broken\.sql failed/,
    );
    const tables = await pool.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
    // Not even the bookkeeping table: the whole run was one transaction.
    expect(tables.rows).toEqual([{ n: 0 }]);
    // And the database is as new: the same run without the broken file applies everything.
    expect(await migratePostgres(pool, readMigrations(POSTGRES_MIGRATIONS_DIR))).toEqual(MIGRATION_NAMES);
  });
});

// ---- The two dialects describe the same schema ----

interface Shape {
  tables: string[];
  /** table.column → "text|integer" + " not null" + " default …" */
  columns: Record<string, string>;
  primaryKeys: Record<string, string>;
  /** table → sorted "cols -> table(cols)" */
  foreignKeys: Record<string, string[]>;
  /** table → sorted "unique (cols)" for unique constraints (their index names differ by dialect) */
  uniques: Record<string, string[]>;
  /** index name → "table unique? (cols) where predicate" for indexes made by CREATE INDEX */
  indexes: Record<string, string>;
}

const predicate = (text: string | null | undefined) =>
  (text ?? '')
    .replace(/::[a-z ]+/gi, '')
    .replace(/[()"]/g, '')
    .replace(/<>/g, '!=')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();

const typeFamily = (type: string) =>
  /int|bigint/i.test(type) ? 'integer' : type.toLowerCase().replace(/ collate.*/, '');

const defaultOf = (value: string | null) =>
  value === null ? '' : ` default ${value.replace(/::[a-z ]+/gi, '').replace(/^\((.*)\)$/, '$1')}`;

function sqliteShape(): Shape {
  const raw = new Database(':memory:');
  migrateSqlite(raw, readMigrations());
  const tables = (
    raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('d1_migrations', 'sqlite_sequence') ORDER BY name",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
  const shape: Shape = { tables, columns: {}, primaryKeys: {}, foreignKeys: {}, uniques: {}, indexes: {} };
  for (const table of tables) {
    const columns = raw.prepare(`PRAGMA table_info(${table})`).all() as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    for (const column of columns) {
      shape.columns[`${table}.${column.name}`] =
        `${typeFamily(column.type)}${column.notnull || column.pk ? ' not null' : ''}${defaultOf(column.dflt_value)}`;
    }
    shape.primaryKeys[table] = columns
      .filter((column) => column.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((column) => column.name)
      .join(', ');
    const fks = raw.prepare(`PRAGMA foreign_key_list(${table})`).all() as {
      table: string;
      from: string;
      to: string;
    }[];
    shape.foreignKeys[table] = fks.map((fk) => `${fk.from} -> ${fk.table}(${fk.to})`).sort();
    const indexes = raw.prepare(`PRAGMA index_list(${table})`).all() as {
      name: string;
      unique: number;
      origin: string;
      partial: number;
    }[];
    shape.uniques[table] = [];
    for (const index of indexes) {
      const cols = (raw.prepare(`PRAGMA index_info(${index.name})`).all() as { name: string }[])
        .map((column) => column.name)
        .join(', ');
      if (index.origin === 'pk') continue;
      if (index.origin === 'u') {
        shape.uniques[table]!.push(`unique (${cols})`);
        continue;
      }
      const sql = (
        raw.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(index.name) as { sql: string }
      ).sql;
      const where = /\bWHERE\b(.*)$/is.exec(sql)?.[1];
      shape.indexes[index.name] =
        `${table}${index.unique ? ' unique' : ''} (${cols})${where ? ` where ${predicate(where)}` : ''}`;
    }
    shape.uniques[table]!.sort();
  }
  raw.close();
  return shape;
}

async function postgresShape(pool: pg.Pool): Promise<Shape> {
  const q = async (text: string) => (await pool.query(text)).rows;
  const tables = (
    await q(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'
             AND tablename <> '${POSTGRES_MIGRATIONS_TABLE}' ORDER BY 1`)
  ).map((row) => row.tablename as string);
  const shape: Shape = { tables, columns: {}, primaryKeys: {}, foreignKeys: {}, uniques: {}, indexes: {} };
  for (const row of await q(`
    SELECT table_name, column_name, data_type, is_nullable, column_default
    FROM information_schema.columns WHERE table_schema = 'public'`)) {
    if (row.table_name === POSTGRES_MIGRATIONS_TABLE) continue;
    shape.columns[`${row.table_name}.${row.column_name}`] =
      `${typeFamily(row.data_type)}${row.is_nullable === 'NO' ? ' not null' : ''}${defaultOf(row.column_default)}`;
  }
  for (const table of tables) {
    shape.foreignKeys[table] = [];
    shape.uniques[table] = [];
  }
  for (const row of await q(`
    SELECT c.relname AS table, con.contype AS type, con.conname AS name, con.conindid,
      (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS cols,
      f.relname AS ref_table,
      (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_cols
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    LEFT JOIN pg_class f ON f.oid = con.confrelid
    WHERE con.contype IN ('p', 'f', 'u')`)) {
    if (row.table === POSTGRES_MIGRATIONS_TABLE) continue;
    if (row.type === 'p') shape.primaryKeys[row.table] = row.cols;
    if (row.type === 'f')
      shape.foreignKeys[row.table]!.push(`${row.cols} -> ${row.ref_table}(${row.ref_cols})`);
    if (row.type === 'u') shape.uniques[row.table]!.push(`unique (${row.cols})`);
  }
  for (const table of tables) {
    shape.foreignKeys[table]!.sort();
    shape.uniques[table]!.sort();
  }
  for (const row of await q(`
    SELECT i.indexname AS name, i.tablename AS table, i.indexdef AS definition
    FROM pg_indexes i WHERE i.schemaname = 'public'
    AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conname = i.indexname)`)) {
    const match = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING btree \(([^)]*)\)(?: WHERE (.*))?$/.exec(
      row.definition,
    );
    if (!match) throw new Error(`unexpected index definition: ${row.definition}`);
    const [, unique, cols, where] = match;
    shape.indexes[row.name] =
      `${row.table}${unique ? ' unique' : ''} (${cols})${where ? ` where ${predicate(where)}` : ''}`;
  }
  return shape;
}

describe.skipIf(!(await hasPostgres()))('the SQLite and PostgreSQL schemas', () => {
  it('have the same tables, columns, nullability, defaults, keys and indexes (apart from the listed PostgreSQL-only objects)', async () => {
    const pool = await freshPool();
    await migratePostgres(pool, readMigrations(POSTGRES_MIGRATIONS_DIR));
    const postgres = await postgresShape(pool);
    const sqlite = sqliteShape();
    for (const table of POSTGRES_ONLY_TABLES) {
      expect(postgres.tables).toContain(table);
      postgres.tables = postgres.tables.filter((name) => name !== table);
      for (const key of Object.keys(postgres.columns))
        if (key.startsWith(`${table}.`)) delete postgres.columns[key];
      delete postgres.primaryKeys[table];
      delete postgres.foreignKeys[table];
      delete postgres.uniques[table];
    }
    expect(sqlite.tables.length).toBeGreaterThan(10);
    expect(postgres.tables).toEqual(sqlite.tables);
    expect(postgres.columns).toEqual(sqlite.columns);
    expect(postgres.primaryKeys).toEqual(sqlite.primaryKeys);
    expect(postgres.foreignKeys).toEqual(sqlite.foreignKeys);
    expect(postgres.uniques).toEqual(sqlite.uniques);
    expect(Object.keys(sqlite.indexes).length).toBeGreaterThan(10);
    expect(postgres.indexes).toEqual(sqlite.indexes);
  });
});
