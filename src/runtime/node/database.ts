import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Env } from '../../config';
import { readMigrations } from '../../store/migration-files';
import { configureSqlite, migrateSqlite } from '../../store/sqlite';

/**
 * Opens (creating the folder) and migrates the database named by TOKENLADDER_DB. What tokenladder
 * creates is private to its user, like the KEK beside it: folders 0700 (an existing folder is the
 * operator's and stays as it is), the database file 0600, and so its -wal and -shm files, which
 * SQLite creates with the database file's mode.
 */
export function openDatabase(env: Env): { raw: Database.Database; applied: string[] } {
  const file = env.TOKENLADDER_DB;
  if (file !== ':memory:') createPrivately(resolve(file));
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

/** The folder (0700, only the levels that are missing) and an empty database file (0600) if absent. */
function createPrivately(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (existsSync(file)) return;
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    // Another process created it meanwhile: theirs is the file, with the mode it was made with.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
