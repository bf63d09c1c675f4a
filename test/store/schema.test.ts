import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore, migrateSqlite } from '../../src/store/sqlite';
import { readMigrations } from '../../src/store/migration-files';

/** Every schema object as SQLite records it, whitespace-normalised, excluding bookkeeping tables. */
function schemaOf(raw: Database.Database) {
  const rows = raw
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name NOT IN ('d1_migrations', 'sqlite_sequence') ORDER BY type, name",
    )
    .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
  // Layout-insensitive: SQLite keeps a renamed table's name quoted and appends added columns in place.
  const normalize = (sql: string) =>
    sql
      .replace(/"/g, '')
      .replace(/\s+/g, ' ')
      .replace(/\s*([(),])\s*/g, '$1')
      .trim();
  return rows.map((row) => ({ ...row, sql: row.sql === null ? null : normalize(row.sql) }));
}

describe('migrations and schema.sql', () => {
  it('applying every migration yields exactly schema.sql', () => {
    const migrated = new Database(':memory:');
    migrateSqlite(migrated, readMigrations());
    const fromSchema = new Database(':memory:');
    fromSchema.exec(readFileSync(new URL('../../schema.sql', import.meta.url), 'utf8'));
    expect(schemaOf(migrated).length).toBeGreaterThan(5);
    expect(schemaOf(migrated)).toEqual(schemaOf(fromSchema));
  });

  it('records migrations as wrangler does and never applies one twice', () => {
    const raw = new Database(':memory:');
    expect(migrateSqlite(raw, readMigrations())).toEqual([
      '0001_init.sql',
      '0002_token_lifecycle.sql',
      '0003_security.sql',
      '0004_temp_api_tokens.sql',
      '0005_revocation_scope.sql',
      '0006_subject_base_revocations.sql',
      '0007_revocation_generations.sql',
      '0008_one_next_key.sql',
      '0009_api_token_networks.sql',
    ]);
    expect(migrateSqlite(raw, readMigrations())).toEqual([]);
    const rows = raw.prepare('SELECT id, name, applied_at FROM d1_migrations').all();
    expect(rows).toEqual([
      { id: 1, name: '0001_init.sql', applied_at: expect.any(String) },
      { id: 2, name: '0002_token_lifecycle.sql', applied_at: expect.any(String) },
      { id: 3, name: '0003_security.sql', applied_at: expect.any(String) },
      { id: 4, name: '0004_temp_api_tokens.sql', applied_at: expect.any(String) },
      { id: 5, name: '0005_revocation_scope.sql', applied_at: expect.any(String) },
      { id: 6, name: '0006_subject_base_revocations.sql', applied_at: expect.any(String) },
      { id: 7, name: '0007_revocation_generations.sql', applied_at: expect.any(String) },
      { id: 8, name: '0008_one_next_key.sql', applied_at: expect.any(String) },
      { id: 9, name: '0009_api_token_networks.sql', applied_at: expect.any(String) },
    ]);
  });

  it('refuses a database written by a newer version', () => {
    const raw = new Database(':memory:');
    migrateSqlite(raw, [
      ...readMigrations(),
      { name: '9999_future.sql', sql: 'CREATE TABLE future (id TEXT)' },
    ]);
    expect(() => migrateSqlite(raw, readMigrations())).toThrow(/9999_future\.sql/);
  });

  it('rolls back a migration that fails half-way', () => {
    const raw = new Database(':memory:');
    const broken = { name: '0001_broken.sql', sql: 'CREATE TABLE a (id TEXT); CREATE TABLE a (id TEXT);' };
    expect(() => migrateSqlite(raw, [broken])).toThrow();
    expect(raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'a'").get()).toEqual({ n: 0 });
    expect(raw.prepare('SELECT count(*) AS n FROM d1_migrations').get()).toEqual({ n: 0 });
  });
});

describe('atomic()', () => {
  const setup = () => {
    const raw = new Database(':memory:');
    raw.pragma('foreign_keys = ON');
    migrateSqlite(raw, readMigrations());
    return { raw, ...createSqliteStore(raw) };
  };
  const team = (id: string, name: string) => ({ id, name, created_at: 1 });

  it('writes every statement and reports affected rows', async () => {
    const { db, atomic } = setup();
    const results = await atomic([
      db.insertInto('teams').values(team('t1', 'one')),
      db.updateTable('teams').set({ name: 'uno' }).where('id', '=', 't1'),
    ]);
    expect(results.map((result) => result.numAffectedRows)).toEqual([1, 1]);
    expect(await db.selectFrom('teams').selectAll().execute()).toEqual([team('t1', 'uno')]);
  });

  it('leaves nothing behind when a later statement fails', async () => {
    const { db, atomic } = setup();
    await db.insertInto('teams').values(team('t0', 'taken')).execute();
    await expect(
      atomic([
        db.insertInto('teams').values(team('t1', 'fresh')),
        db.insertInto('teams').values(team('t2', 'taken')),
      ]),
    ).rejects.toThrow(/UNIQUE/);
    expect(await db.selectFrom('teams').select('id').execute()).toEqual([{ id: 't0' }]);
  });
});
