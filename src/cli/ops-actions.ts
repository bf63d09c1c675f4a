// What `tokenladder backup <file>` and `tokenladder restore <file>` do (registered, cheaply, in
// src/cli/ops-commands.ts, which imports this file only when one runs): an online, consistent copy
// of the SQLite database (the SQLite backup API, safe under WAL and concurrent writers) and a
// checked restore.
// docs/operations.md explains both, and what a backup does not hold (the KEK).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { verifyAuditChain } from '../audit/query';
import { parseEnv, type Env } from '../config';
import { sha256Hex } from '../lib/bytes';
import { kekFileOf } from '../runtime/node/kek';
import { MIGRATION_NAMES } from '../store/migration-names';
import { createSqliteStore } from '../store/sqlite';
import { CliError } from './exit-codes';

/** What a database file holds, as far as a restore needs to know. */
export interface DatabaseCheck {
  /** Why the file must not be restored; empty when it may be. */
  problems: string[];
  migrations: string[];
  /** Known migrations the file lacks: applied when a server next starts on it. */
  pending: string[];
  auditRecords: number;
  signingKeys: number;
}

/** Integrity, schema version (migrations known to this code) and the audit chain of `file`. */
export async function checkDatabaseFile(file: string): Promise<DatabaseCheck> {
  const raw = new Database(file, { readonly: true, fileMustExist: true });
  const problems: string[] = [];
  try {
    const integrity = (raw.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]).map(
      (row) => row.integrity_check,
    );
    if (integrity.length !== 1 || integrity[0] !== 'ok')
      return {
        problems: [`PRAGMA integrity_check: ${integrity.slice(0, 3).join('; ')}`],
        migrations: [],
        pending: [],
        auditRecords: 0,
        signingKeys: 0,
      };
    const hasTable = (name: string) =>
      raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (!hasTable('d1_migrations') || !hasTable('audit_events') || !hasTable('signing_keys'))
      return {
        problems: ['not a tokenladder database (no d1_migrations, audit_events or signing_keys table)'],
        migrations: [],
        pending: [],
        auditRecords: 0,
        signingKeys: 0,
      };
    const migrations = (
      raw.prepare('SELECT name FROM d1_migrations ORDER BY name').all() as { name: string }[]
    ).map((row) => row.name);
    const known = new Set(MIGRATION_NAMES);
    const unknown = migrations.filter((name) => !known.has(name));
    if (unknown.length > 0)
      problems.push(
        `it was written by a newer tokenladder (migrations this version does not know: ${unknown.join(', ')}); restore it with that version`,
      );
    const applied = new Set(migrations);
    const pending = MIGRATION_NAMES.filter((name) => !applied.has(name));
    const { db } = createSqliteStore(raw);
    const chain = await verifyAuditChain(db, sha256Hex);
    if (!chain.ok)
      problems.push(`the audit chain is broken at seq ${chain.broken?.seq} (${chain.broken?.reason})`);
    const { keys } = raw.prepare('SELECT count(*) AS keys FROM signing_keys').get() as { keys: number };
    if (keys === 0) problems.push('it holds no signing key');
    return { problems, migrations, pending, auditRecords: chain.checked, signingKeys: keys };
  } finally {
    raw.close();
  }
}

/**
 * Whether a process has `file` open as a database, as far as SQLite's locks can tell: in WAL mode
 * every open connection holds a shared lock on the -shm file's dead-man switch, so taking the
 * database in exclusive locking mode fails while a server runs on it. A server on another machine
 * (a network file system) may not be seen; docs/operations.md says to stop it first.
 */
export function databaseInUse(file: string): boolean {
  if (!existsSync(file)) return false;
  const raw = new Database(file, { fileMustExist: true });
  try {
    raw.pragma('busy_timeout = 0');
    raw.pragma('locking_mode = EXCLUSIVE');
    raw.exec('BEGIN EXCLUSIVE');
    raw.exec('COMMIT');
    return false;
  } catch (error) {
    if (/SQLITE_BUSY|database is locked/i.test(String((error as Error).message ?? error))) return true;
    throw error;
  } finally {
    raw.close();
  }
}

/** Flushes a file (or a folder's entry list) to disk. */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copies the open database `source` into `target` (absent) through a temporary file, 0600, synced. */
async function backupInto(source: Database.Database, target: string): Promise<number> {
  const partial = resolve(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  closeSync(openSync(partial, 'wx', 0o600));
  try {
    // After the first step, all remaining pages in one step, under one read transaction: a write from
    // the server between steps restarts the copy, so it ends as one consistent snapshot.
    const { totalPages } = await source.backup(partial, { progress: () => 0x7fffffff });
    fsyncPath(partial);
    renameSync(partial, target);
    fsyncPath(dirname(target));
    return totalPages;
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

const KEK_REMINDER = (kekFile: string, fromEnv: boolean) =>
  `Keep the key-encryption key separately from this file: ${
    fromEnv ? 'TOKENLADDER_KEK (set in the environment)' : kekFile
  }. The signing keys in the backup are sealed with it; without it a restored server refuses to start, and with both together anyone holding them could sign Base-Tokens.`;

/** backup and restore copy SQLite files: with PostgreSQL configured they would act on the wrong database. */
function refuseOnPostgres(env: Env, command: string, tool: string): void {
  if (env.TOKENLADDER_DATABASE_URL === undefined) return;
  throw new CliError(
    `tokenladder ${command} is for the SQLite file (TOKENLADDER_DB); TOKENLADDER_DATABASE_URL is set, so the data is in PostgreSQL: use ${tool}`,
  );
}

/** `tokenladder backup <file>`: copies TOKENLADDER_DB to `file`, also while the server runs. */
export async function backup(file: string): Promise<void> {
  const env = parseEnv(process.env);
  refuseOnPostgres(env, 'backup', 'pg_dump --format=custom');
  if (env.TOKENLADDER_DB === ':memory:') throw new CliError('TOKENLADDER_DB is :memory:; nothing to back up');
  const source = resolve(env.TOKENLADDER_DB);
  const target = resolve(file);
  if (!existsSync(source)) throw new CliError(`no database at ${source}; set TOKENLADDER_DB`);
  if (existsSync(target)) throw new CliError(`${target} exists; choose a new file name`);
  if (!existsSync(dirname(target))) throw new CliError(`the folder ${dirname(target)} does not exist`);
  const raw = new Database(source, { fileMustExist: true });
  let pages: number;
  try {
    raw.pragma('busy_timeout = 5000');
    pages = await backupInto(raw, target);
  } finally {
    raw.close();
  }
  const check = await checkDatabaseFile(target);
  if (check.problems.length > 0)
    throw new CliError(`the backup ${target} fails its own check: ${check.problems.join('; ')}`);
  console.log(
    `backed up ${source} to ${target} (${pages} pages, ${statSync(target).size} bytes; ${check.auditRecords} audit records, schema ${check.migrations.at(-1) ?? 'empty'})`,
  );
  console.log(KEK_REMINDER(kekFileOf(env), env.TOKENLADDER_KEK !== undefined));
}

/** `tokenladder restore <file>`: replaces TOKENLADDER_DB with `file` once it passes every check. */
export async function restore(file: string): Promise<void> {
  const env = parseEnv(process.env);
  refuseOnPostgres(env, 'restore', 'pg_restore (into an empty database, every instance stopped)');
  if (env.TOKENLADDER_DB === ':memory:')
    throw new CliError('TOKENLADDER_DB is :memory:; nowhere to restore to');
  const backup = resolve(file);
  const target = resolve(env.TOKENLADDER_DB);
  if (!existsSync(backup)) throw new CliError(`no file at ${backup}`);
  if (backup === target) throw new CliError('the backup is TOKENLADDER_DB itself');
  const check = await checkDatabaseFile(backup);
  if (check.problems.length > 0)
    throw new CliError(`refusing to restore ${backup}: ${check.problems.join('; ')}; nothing was changed`);
  if (databaseInUse(target))
    throw new CliError(
      `${target} is open in a running process (a tokenladder server?); stop it, then restore; nothing was changed`,
    );
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  let keptAs: string | null = null;
  if (existsSync(target)) {
    keptAs = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    // Through the backup API too, so a WAL the old file still has is folded into the copy kept.
    const old = new Database(target, { fileMustExist: true });
    try {
      await backupInto(old, keptAs);
    } finally {
      old.close();
    }
  }
  const from = new Database(backup, { readonly: true, fileMustExist: true });
  const staged = `${target}.restoring-${process.pid}`;
  try {
    await backupInto(from, staged);
  } finally {
    from.close();
  }
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  renameSync(staged, target);
  fsyncPath(dirname(target));
  console.log(
    `restored ${backup} to ${target} (${check.auditRecords} audit records, chain intact; ${check.signingKeys} signing keys)`,
  );
  if (keptAs) console.log(`the database it replaced is kept as ${keptAs}`);
  if (check.pending.length > 0)
    console.log(`the next start applies migrations it lacks: ${check.pending.join(', ')}`);
  console.log(
    `Start the server with the KEK the backup was taken with (${
      env.TOKENLADDER_KEK !== undefined ? 'TOKENLADDER_KEK' : kekFileOf(env)
    }); with another KEK it refuses to start.`,
  );
}
