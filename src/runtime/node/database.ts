import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Env } from '../../config';
import { readMigrations } from '../../store/migration-files';
import { configureSqlite, migrateSqlite } from '../../store/sqlite';

/** Opens (creating the folder) and migrates the database named by TOKENLADDER_DB. */
export function openDatabase(env: Env): { raw: Database.Database; applied: string[] } {
  const file = env.TOKENLADDER_DB;
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const raw = new Database(file);
  try {
    configureSqlite(raw);
    // A damaged file is refused at start rather than found half-way through a write (quick_check: O(N), no index cross-check).
    const problems = raw.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    if (problems.length !== 1 || problems[0]!.quick_check !== 'ok') {
      throw new Error(
        `the database ${file} is damaged (PRAGMA quick_check: ${problems
          .slice(0, 3)
          .map((row) => row.quick_check)
          .join('; ')}); restore it from a backup`,
      );
    }
    return { raw, applied: migrateSqlite(raw, readMigrations()) };
  } catch (error) {
    raw.close();
    throw error;
  }
}
