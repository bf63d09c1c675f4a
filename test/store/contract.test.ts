// The store contract (test/store/contract.ts) on SQLite (better-sqlite3) and PostgreSQL; on D1 it runs
// inside workerd (test/workers/store-contract.test.ts), which this project must not start.
import Database from 'better-sqlite3';
import { describe } from 'vitest';
import { readMigrations } from '../../src/store/migration-files';
import { configureSqlite, createSqliteStore, migrateSqlite } from '../../src/store/sqlite';
import { testPostgresStore, type TestStore } from '../helpers/app';
import { hasPostgres } from '../helpers/postgres';
import { defineStoreContract, type StoreFixture } from './contract';

const STORES: TestStore[] = ['sqlite', ...((await hasPostgres()) ? (['postgres'] as const) : [])];

async function openStore(kind: TestStore): Promise<StoreFixture> {
  if (kind === 'postgres') {
    const opened = await testPostgresStore();
    return { ...opened.store, close: opened.close };
  }
  const raw = new Database(':memory:');
  configureSqlite(raw);
  migrateSqlite(raw, readMigrations());
  return {
    ...createSqliteStore(raw),
    close: async () => {
      raw.close();
    },
  };
}

describe.each(STORES)('the store contract on %s', (kind) => {
  defineStoreContract(kind, () => openStore(kind));
});
