// `tokenladder backup` under write load against a real server, `tokenladder restore` into a new folder,
// and a server started on the restored copy: every token whose creation was acknowledged before the
// backup began still works. Restore refuses a damaged, newer or tampered file, and a live database.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dbDigest } from '../helpers/db-digest';
import { freePort, start, type Running, runToEnd } from '../helpers/processes';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct horse battery staple';
const WORKERS = 6;

/** `tokenladder <args>` (the bundled CLI) with `env`, asynchronously. */
const cli = (args: string[], env: Record<string, string>) =>
  runToEnd('node', [inject('cliBundle'), ...args], env);

/** Every row of `file` (read-only, beside a server that may have it open). */
function fileDigest(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return dbDigest(db, { ignoreTables: [] });
  } finally {
    db.close();
  }
}

describe('backup and restore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-backup-'));
  const live = join(dir, 'live', 'tokenladder.db');
  const kekFile = join(dir, 'live', 'kek.key');
  const backupFile = join(dir, 'backup.db');
  const restored = join(dir, 'restored', 'data', 'tokenladder.db');
  const servers: Running[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a backup taken under exchanges and token creations restores into a new folder where every acknowledged token works', {
    timeout: 120_000,
  }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      TOKENLADDER_DB: live,
      TOKENLADDER_ISSUER: url,
      PORT: String(port),
      TOKENLADDER_ADMIN_EMAIL: ADMIN_EMAIL,
      TOKENLADDER_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
    };
    const api = async (method: string, path: string, token?: string, body?: unknown, at = url) => {
      const response = await fetch(`${at}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    };
    const server = await start('node', ['bin/tokenladder.mjs', 'serve'], env, /"listening"/, 30_000);
    servers.push(server);
    const account = (
      await api('POST', '/api/v1/account-tokens', undefined, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
    ).body.token as string;
    const base = (await api('POST', '/api/v1/bases', account, { name: 'backed up' })).body.uuid as string;

    // Load: each worker creates API-Tokens and exchanges those acknowledged so far, until told to stop.
    const acked: { token: string; at: number }[] = [];
    let stop = false;
    let exchanges = 0;
    let i = 0;
    const worker = async () => {
      while (!stop) {
        const created = await api('POST', `/api/v1/bases/${base}/api-tokens`, account, {
          name: `t${i++}`,
          permission: 'r',
        });
        expect(created.status).toBe(201);
        acked.push({ token: created.body.token, at: Date.now() });
        const pick = acked[Math.floor(Math.random() * acked.length)]!;
        const exchanged = await api('POST', '/api/v1/base-tokens', pick.token, { base_uuid: base });
        expect(exchanged.status).toBe(201);
        exchanges++;
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const ackedBeforeBackup = acked.length;
    const backupStarted = Date.now();
    const backup = await cli(['backup', backupFile], { TOKENLADDER_DB: live });
    const backupEnded = Date.now();
    const ackedDuringBackup = acked.length - ackedBeforeBackup;
    stop = true;
    await load;
    expect(backup.stderr).toBe('');
    expect(backup.status).toBe(0);
    expect(backup.stdout).toMatch(/^backed up .* to .*backup\.db \(\d+ pages, \d+ bytes; \d+ audit records/);
    expect(backup.stdout).toContain(`Keep the key-encryption key separately from this file: ${kekFile}`);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    console.info(
      `backup took ${backupEnded - backupStarted} ms; tokens acknowledged before: ${ackedBeforeBackup}, during: ${ackedDuringBackup}; exchanges: ${exchanges}`,
    );
    // The load really ran while the backup was taken.
    expect(ackedBeforeBackup).toBeGreaterThan(10);
    expect(ackedDuringBackup).toBeGreaterThan(0);
    expect(exchanges).toBeGreaterThan(10);

    // Restore into a new folder, as onto a new machine: the KEK file travels separately.
    const restoreEnv = { TOKENLADDER_DB: restored, TOKENLADDER_KEK_FILE: join(dir, 'restored', 'kek.key') };
    mkdirSync(join(dir, 'restored'), { mode: 0o700 });
    copyFileSync(kekFile, restoreEnv.TOKENLADDER_KEK_FILE);
    const restore = await cli(['restore', backupFile], restoreEnv);
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(restore.stdout).toMatch(
      /^restored .*backup\.db to .*tokenladder\.db \(\d+ audit records, chain intact; 1 signing keys\)/,
    );

    const restoredPort = await freePort();
    const restoredUrl = `http://127.0.0.1:${restoredPort}`;
    const second = await start(
      'node',
      ['bin/tokenladder.mjs', 'serve'],
      { ...env, ...restoreEnv, PORT: String(restoredPort), TOKENLADDER_ISSUER: restoredUrl },
      /"listening"/,
      30_000,
    );
    servers.push(second);
    expect((await fetch(`${restoredUrl}/readyz`)).status).toBe(200);
    // Every token acknowledged before the backup began works against the restored copy; those
    // acknowledged while it ran may or may not be in it (the snapshot's moment lies in between).
    // (At or before: `ackedBeforeBackup` was counted in the same millisecond-resolution instant.)
    const beforeBackup = acked.filter((entry) => entry.at <= backupStarted);
    expect(beforeBackup.length).toBeGreaterThanOrEqual(ackedBeforeBackup);
    const failed: number[] = [];
    for (const [n, entry] of beforeBackup.entries()) {
      const exchanged = await api(
        'POST',
        '/api/v1/base-tokens',
        entry.token,
        { base_uuid: base },
        restoredUrl,
      );
      if (exchanged.status !== 201) failed.push(n);
    }
    expect(failed).toEqual([]);
    // Those acknowledged after the backup ended are not in it.
    const after = acked.filter((entry) => entry.at > backupEnded);
    if (after.length > 0)
      expect(
        (await api('POST', '/api/v1/base-tokens', after.at(-1)!.token, { base_uuid: base }, restoredUrl))
          .status,
      ).toBe(401);
  });

  it('restore refuses a live database, a damaged file, a newer schema and a broken audit chain, changing nothing', {
    timeout: 60_000,
  }, async () => {
    // `servers[1]` runs on the restored copy.
    expect(servers[1]?.child.exitCode).toBeNull();
    const env = { TOKENLADDER_DB: restored, TOKENLADDER_KEK_FILE: join(dir, 'restored', 'kek.key') };
    const before = fileDigest(restored);
    const whileLive = await cli(['restore', backupFile], env);
    expect(whileLive.status).toBe(1);
    expect(whileLive.stderr.trim()).toMatch(
      /is open in a running process \(a tokenladder server\?\); stop it, then restore; nothing was changed$/,
    );

    const variant = (name: string, change: (db: Database.Database) => void) => {
      const file = join(dir, name);
      copyFileSync(backupFile, file);
      const db = new Database(file);
      change(db);
      db.close();
      return file;
    };
    const newer = variant('newer.db', (db) =>
      db.prepare("INSERT INTO d1_migrations (name) VALUES ('9999_future.sql')").run(),
    );
    const tampered = variant('tampered.db', (db) =>
      db
        .prepare(
          "UPDATE audit_events SET action = 'nothing.happened' WHERE seq = (SELECT min(seq) FROM audit_events)",
        )
        .run(),
    );
    const damaged = join(dir, 'damaged.db');
    const bytes = readFileSync(backupFile);
    bytes.fill(0x41, 4096 * 2, 4096 * 2 + 2000);
    writeFileSync(damaged, bytes);
    const fresh = { ...env, TOKENLADDER_DB: join(dir, 'elsewhere', 'tokenladder.db') };
    for (const [file, reason] of [
      [newer, /written by a newer tokenladder \(migrations this version does not know: 9999_future\.sql\)/],
      [tampered, /the audit chain is broken at seq \d+/],
      [damaged, /PRAGMA integrity_check|not a database|malformed/],
    ] as const) {
      const refused = await cli(['restore', file], fresh);
      expect(refused.status, file).toBe(1);
      expect(refused.stderr, file).toMatch(reason);
      expect(existsSync(fresh.TOKENLADDER_DB), file).toBe(false);
    }
    expect(fileDigest(restored)).toBe(before);

    // Stopped, the same restore goes through and keeps the database it replaces.
    await servers[1]!.stop();
    const again = await cli(['restore', backupFile], env);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    const kept = /the database it replaced is kept as (\S+)/.exec(again.stdout)?.[1];
    expect(kept && fileDigest(kept)).toBe(before);
    expect(fileDigest(restored)).toBe(fileDigest(backupFile));
  });
});
