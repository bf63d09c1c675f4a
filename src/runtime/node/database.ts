import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Env } from '../../config';
import { consoleLogger, type Logger } from '../../lib/logger';
import type { Atomic, AtomicAfter } from '../../store/atomic';
import { POSTGRES_MIGRATIONS_DIR, readMigrations } from '../../store/migration-files';
import { createPostgresStore, redactDatabaseUrl, type PostgresStore } from '../../store/postgres';
import { migratePostgres } from '../../store/postgres-migrate';
import type { Database as Schema } from '../../store/schema';
import { configureSqlite, createSqliteStore, migrateSqlite } from '../../store/sqlite';
import type { Kysely } from 'kysely';
import { kekFileOf } from './kek';

/**
 * Opens (creating the folder) and migrates the database named by TOKENLADDER_DB. What tokenladder
 * creates is private to its user, like the KEK beside it: folders 0700 (an existing folder is the
 * operator's and stays as it is, unless plainly an older version's data folder), the database file 0600, and so its -wal and -shm files, which
 * SQLite creates with the database file's mode. What an older version left open (a 0755 folder, 0644
 * files) is tightened first, with one warning saying what changed (tightenLeftovers).
 */
export function openDatabase(
  env: Env,
  log: Pick<Logger, 'warn'> = consoleLogger,
): { raw: Database.Database; applied: string[] } {
  const file = env.TOKENLADDER_DB;
  if (file !== ':memory:') {
    const path = resolve(file);
    const changed = tightenLeftovers(path, kekFileOf(env));
    if (changed.length > 0)
      log.warn('tightened the modes of database files an older version left readable by others', {
        changed,
      });
    createPrivately(path);
  }
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

/** The file's mode less every group and other bit, or null when it is not ours or has none to drop. */
function tighterMode(path: string, uid: number): { from: number; to: number } | null {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const from = stats.mode & 0o7777;
  // Only what we own: another user's file (root's, an operator's) is theirs to set.
  if (stats.uid !== uid || (from & 0o077) === 0) return null;
  return { from, to: from & ~0o077 };
}

const octal = (mode: number) => `0${mode.toString(8)}`;

/**
 * Folders and files from before class 12 (the umask's 0755 and 0644): the database, its -wal and -shm
 * (left by a crash, or by a process still running) lose every group and other bit, never gaining any.
 * The folder becomes 0700 only when it is plainly the data folder: ours, open to others, and holding
 * nothing but the database's files and the KEK file. A folder that also holds other things (a home,
 * a project, /tmp), or that the operator closed to others (0750, for a backup group), is theirs.
 * Answers what changed, as "path: from → to".
 */
function tightenLeftovers(file: string, kekFile: string): string[] {
  const uid = process.getuid?.();
  // Without POSIX owners (Windows) modes say nothing.
  if (uid === undefined) return [];
  const changed: string[] = [];
  const tighten = (path: string, mode: { from: number; to: number } | null) => {
    if (mode === null) return;
    try {
      chmodSync(path, mode.to);
    } catch (error) {
      // Gone meanwhile (SQLite removes -wal and -shm as the last connection closes): nothing to tighten.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    changed.push(`${path}: ${octal(mode.from)} → ${octal(mode.to)}`);
  };
  for (const path of [file, `${file}-wal`, `${file}-shm`]) tighten(path, tighterMode(path, uid));

  const folder = dirname(file);
  const folderMode = tighterMode(folder, uid);
  if (folderMode === null || (folderMode.from & 0o007) === 0) return changed;
  const own = new Set(['', '-wal', '-shm', '-journal'].map((suffix) => `${basename(file)}${suffix}`));
  if (dirname(kekFile) === folder) own.add(basename(kekFile));
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return changed;
    throw error;
  }
  if (entries.every((entry) => own.has(entry))) tighten(folder, folderMode);
  return changed;
}

/** The configured store, opened and migrated: SQLite (TOKENLADDER_DB) or PostgreSQL (TOKENLADDER_DATABASE_URL). */
export interface OpenedStore {
  kind: 'sqlite' | 'postgres';
  db: Kysely<Schema>;
  atomic: Atomic;
  /** PostgreSQL only (see src/store/atomic.ts). */
  atomicAfter?: AtomicAfter;
  /** SQLite's handle (backup, restore and the KEK check use it); absent on PostgreSQL. */
  raw?: Database.Database;
  /** PostgreSQL's store (its pool; the LISTEN connection is opened beside it). */
  postgres?: PostgresStore;
  /** Migrations this start applied. */
  applied: string[];
  /** Where the data is, for the log: the file, or the URL without its password. */
  location: string;
  close(): Promise<void>;
}

/**
 * Opens the store the environment names: PostgreSQL when TOKENLADDER_DATABASE_URL is set (pool,
 * then migrations, serialised across instances starting together), else the SQLite file.
 */
export async function openStore(env: Env, log: Pick<Logger, 'warn'> = consoleLogger): Promise<OpenedStore> {
  const url = env.TOKENLADDER_DATABASE_URL;
  if (url === undefined) {
    const { raw, applied } = openDatabase(env, log);
    return {
      kind: 'sqlite',
      ...createSqliteStore(raw),
      raw,
      applied,
      location: env.TOKENLADDER_DB,
      close: async () => {
        raw.close();
      },
    };
  }
  const postgres = createPostgresStore({ url, poolSize: env.TOKENLADDER_DATABASE_POOL_SIZE, log });
  try {
    const applied = await migratePostgres(postgres.pool, readMigrations(POSTGRES_MIGRATIONS_DIR));
    return {
      kind: 'postgres',
      db: postgres.db,
      atomic: postgres.atomic,
      atomicAfter: postgres.atomicAfter,
      postgres,
      applied,
      location: redactDatabaseUrl(url),
      close: () => postgres.close(),
    };
  } catch (error) {
    await postgres.close().catch(() => {});
    // node-postgres's messages never carry the password; say where, without it.
    throw new Error(`PostgreSQL at ${redactDatabaseUrl(url)}: ${(error as Error).message}`, { cause: error });
  }
}
