import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config';
import { openDatabase } from '../../src/runtime/node/database';

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** A logger keeping its warnings. */
function warnings() {
  const lines: { message: string; changed: string[] }[] = [];
  return {
    lines,
    warn: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ message, changed: (fields?.changed ?? []) as string[] }),
  };
}

describe('class 12: The SQLite database and WAL are created world-readable (0644)', () => {
  let root: string;
  let previousUmask: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tl-modes-'));
    // The usual umask: without our own modes, files would be 0644 and folders 0755.
    previousUmask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(previousUmask);
    rmSync(root, { recursive: true, force: true });
  });

  /** Opens, writes (so the WAL and shared-memory files exist), checks, closes. */
  function openAndWrite(file: string) {
    const log = warnings();
    const { raw } = openDatabase(parseEnv({ TOKENLADDER_DB: file }), log);
    // What it creates itself is private from the start: nothing to tighten, nothing to say.
    expect(log.lines).toEqual([]);
    raw
      .prepare(
        "INSERT INTO settings (key, value, updated_at) VALUES ('mode-test', 'x', 0) ON CONFLICT(key) DO NOTHING",
      )
      .run();
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(path), path).toBe(true);
      expect(modeOf(path).toString(8), path).toBe('600');
    }
    raw.close();
  }

  it('creates the folder 0700 and the database, -wal and -shm 0600, after start and after writes', () => {
    const folder = join(root, 'data', 'nested');
    const file = join(folder, 'tokenladder.db');
    openAndWrite(file);
    expect(modeOf(folder).toString(8)).toBe('700');
    expect(modeOf(join(root, 'data')).toString(8)).toBe('700');
    // Reopened (the WAL files are made again): still 0600.
    openAndWrite(file);
    expect(modeOf(file).toString(8)).toBe('600');
  });

  it("leaves an operator's existing folder as it is, and still creates the files 0600", () => {
    const folder = join(root, 'shared');
    mkdirSync(folder, { mode: 0o750 });
    openAndWrite(join(folder, 'tokenladder.db'));
    expect(modeOf(folder).toString(8)).toBe('750');
  });

  /**
   * What a version before class 12 left, under the usual umask: the folder 0755, the database 0644, and
   * (with that process still running, or after a crash) its -wal and -shm 0644; the KEK file was 0600.
   * Answers the old process's connection, still open.
   */
  function olderVersion(folder: string, file: string) {
    mkdirSync(folder, { recursive: true });
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE old (x); INSERT INTO old VALUES (1);');
    writeFileSync(join(folder, 'kek.key'), 'k\n', { mode: 0o600 });
    for (const [path, mode] of [
      [folder, '755'],
      [file, '644'],
      [`${file}-wal`, '644'],
      [`${file}-shm`, '644'],
    ] as const)
      expect(modeOf(path).toString(8), path).toBe(mode);
    return old;
  }

  it('tightens what an older version left (folder 0700, database, -wal and -shm 0600) with one warning', () => {
    const folder = join(root, 'data');
    const file = join(folder, 'tokenladder.db');
    const old = olderVersion(folder, file);
    const log = warnings();
    const { raw } = openDatabase(parseEnv({ TOKENLADDER_DB: file }), log);
    try {
      expect(modeOf(folder).toString(8)).toBe('700');
      for (const path of [file, `${file}-wal`, `${file}-shm`, join(folder, 'kek.key')])
        expect(modeOf(path).toString(8), path).toBe('600');
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]!.message).toMatch(/tightened/);
      expect(log.lines[0]!.changed.sort()).toEqual(
        [
          `${folder}: 0755 → 0700`,
          `${file}: 0644 → 0600`,
          `${file}-wal: 0644 → 0600`,
          `${file}-shm: 0644 → 0600`,
        ].sort(),
      );
      // The older version's data is still there.
      expect(raw.prepare('SELECT x FROM old').get()).toEqual({ x: 1 });
    } finally {
      raw.close();
      old.close();
    }
    // The next start has nothing to change, and says nothing.
    const again = warnings();
    openDatabase(parseEnv({ TOKENLADDER_DB: file }), again).raw.close();
    expect(again.lines).toEqual([]);
  });

  it('never loosens: only group and other bits are dropped, and what is private already is not named', () => {
    const folder = join(root, 'data');
    const file = join(folder, 'tokenladder.db');
    mkdirSync(folder);
    new Database(file).close();
    chmodSync(folder, 0o711);
    chmodSync(file, 0o604);
    const log = warnings();
    openDatabase(parseEnv({ TOKENLADDER_DB: file }), log).raw.close();
    expect(modeOf(folder).toString(8)).toBe('700');
    expect(modeOf(file).toString(8)).toBe('600');
    expect(log.lines.map((line) => line.changed)).toEqual([
      [`${file}: 0604 → 0600`, `${folder}: 0711 → 0700`],
    ]);
  });

  it('leaves a folder that holds other things (a home, a project, /tmp) open, and still tightens the files', () => {
    const folder = join(root, 'project');
    const file = join(folder, 'tokenladder.db');
    const old = olderVersion(folder, file);
    writeFileSync(join(folder, 'notes.txt'), 'mine\n');
    const log = warnings();
    const { raw } = openDatabase(parseEnv({ TOKENLADDER_DB: file }), log);
    raw.close();
    old.close();
    expect(modeOf(folder).toString(8)).toBe('755');
    expect(modeOf(file).toString(8)).toBe('600');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.changed).not.toContain(`${folder}: 0755 → 0700`);
  });

  it.skipIf(process.getuid?.() !== 0)("leaves another user's files as they are", () => {
    const folder = join(root, 'data');
    const file = join(folder, 'tokenladder.db');
    olderVersion(folder, file).close();
    // Someone else's file (as root we can make one): theirs to set.
    chownSync(file, 4242, 4242);
    const log = warnings();
    openDatabase(parseEnv({ TOKENLADDER_DB: file }), log).raw.close();
    expect(modeOf(file).toString(8)).toBe('644');
    expect(log.lines.flatMap((line) => line.changed)).not.toContain(`${file}: 0644 → 0600`);
  });

  it('does nothing for :memory:', () => {
    const log = warnings();
    const cwd = process.cwd();
    process.chdir(root);
    try {
      openDatabase(parseEnv({ TOKENLADDER_DB: ':memory:' }), log).raw.close();
      expect(log.lines).toEqual([]);
      expect(existsSync(join(root, ':memory:'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});
