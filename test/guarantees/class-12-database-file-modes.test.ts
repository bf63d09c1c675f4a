import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config';
import { openDatabase } from '../../src/runtime/node/database';

const modeOf = (path: string) => statSync(path).mode & 0o777;

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
    const { raw } = openDatabase(parseEnv({ TOKENLADDER_DB: file }));
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
});
