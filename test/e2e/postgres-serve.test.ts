// `tokenladder serve` on PostgreSQL: every instance needs the same key-encryption key, so none is
// ever generated there. Without TOKENLADDER_KEK (or an existing TOKENLADDER_KEK_FILE) the start is
// refused with what to set, before anything touches the database; with a KEK file it serves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { generateKekText } from '../../src/keys/kek';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/postgres';
import { freePort, start } from '../helpers/processes';

const tablesIn = async (url: string) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.length;
  } finally {
    await client.end();
  }
};

describe.skipIf(!(await hasPostgres()))('tokenladder serve on PostgreSQL: the key-encryption key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-pg-serve-'));
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const serve = (env: Record<string, string>) =>
    spawnSync('node', [inject('cliBundle'), 'serve'], {
      // Refused before it would listen: the port is never used.
      env: { PATH: process.env.PATH, PORT: '1', TOKENLADDER_DB: join(dir, 'unused.db'), ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('without TOKENLADDER_KEK or a KEK file: refused with what to set, the database untouched, no key file made', async () => {
    const database = await createTestDatabase('tl_pg_serve');
    databases.push(database);
    const refused = serve({ TOKENLADDER_DATABASE_URL: database.url });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /TOKENLADDER_DATABASE_URL is set: give every instance the same key-encryption key/,
    );
    expect(await tablesIn(database.url)).toBe(0);
    const missing = serve({
      TOKENLADDER_DATABASE_URL: database.url,
      TOKENLADDER_KEK_FILE: join(dir, 'absent.key'),
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/absent\.key does not exist; .* never generated/);
    expect(await tablesIn(database.url)).toBe(0);
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.trim()).toBe('');
  });

  it('with TOKENLADDER_KEK_FILE naming an existing file: serves', async () => {
    const database = await createTestDatabase('tl_pg_serve');
    databases.push(database);
    const file = join(dir, 'shared.key');
    writeFileSync(file, `${generateKekText()}\n`, { mode: 0o600 });
    const port = await freePort();
    const server = await start(
      'node',
      [inject('cliBundle'), 'serve'],
      { PORT: String(port), TOKENLADDER_DATABASE_URL: database.url, TOKENLADDER_KEK_FILE: file },
      /listening on/,
      30_000,
    );
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    } finally {
      await server.stop();
    }
  });
});
