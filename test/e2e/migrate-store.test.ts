// `tokenladder migrate-store --to postgres://…`: a SQLite database with a real history (the chain
// scenario: users, bases, tokens, Base-Tokens, revocations, audit records) copied into an empty
// PostgreSQL database by the bundled CLI, then compared row by row and its audit chain re-verified
// from PostgreSQL. Refusals (a target with rows, a live source, a tampered chain, a wrong URL) write
// nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { verifyAuditRows, type AuditRow } from '../../src/audit/chain';
import { STORE_TABLES } from '../../src/cli/migrate-store';
import { sha256Hex } from '../../src/lib/bytes';
import { ADMIN, testApp } from '../helpers/app';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/postgres';
import { freePort, start, runToEnd } from '../helpers/processes';
import { revokeAndCheck, walkChain, type Target } from '../scenarios/chain';

/** `tokenladder <args>` (the bundled CLI) with `env`, asynchronously. */
const cli = (args: string[], env: Record<string, string>) =>
  runToEnd('node', [inject('cliBundle'), ...args], env);

const int8 = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'),
};

/** Every row of every table, by primary key (SQLite). */
function sqliteRows(file: string): Record<string, unknown[]> {
  const raw = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Object.fromEntries(
      STORE_TABLES.map((table) => {
        const keys = (raw.prepare(`PRAGMA table_info(${table})`).all() as { name: string; pk: number }[])
          .filter((column) => column.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((column) => column.name);
        return [table, raw.prepare(`SELECT * FROM ${table} ORDER BY ${keys.join(', ')}`).all()];
      }),
    );
  } finally {
    raw.close();
  }
}

/** The same from PostgreSQL (bytewise text order, as SQLite's). */
async function postgresRows(url: string): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result: Record<string, unknown[]> = {};
    for (const table of STORE_TABLES) {
      const { rows: keys } = await client.query(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
        [table],
      );
      const order = keys.map((row) => row.attname).join(', ');
      result[table] = (
        await client.query({ text: `SELECT * FROM ${table} ORDER BY ${order}`, types: int8 })
      ).rows;
    }
    return result;
  } finally {
    await client.end();
  }
}

describe.skipIf(!(await hasPostgres()))('tokenladder migrate-store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-migrate-store-'));
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const target = async () => {
    const database = await createTestDatabase('tl_migrate');
    databases.push(database);
    return database;
  };

  /** A SQLite file with the chain scenario's history in it, and an API-Token that still works. */
  async function historyWithToken(name: string) {
    const file = join(dir, name);
    const t = await testApp({ file });
    const scenario: Target = {
      fetch: async (request) => t.app.fetch(request),
      origin: 'http://tokenladder.test',
      admin: ADMIN,
      now: () => new Date(t.clock.now()),
    };
    const chain = await walkChain(scenario);
    await revokeAndCheck(scenario, chain);
    const admin = await t.login();
    const baseUuid = await t.createBase(admin, 'copied');
    const live = await t.createApiToken(admin, baseUuid, 'survives the copy', 'rw');
    t.raw.close();
    return { file, kekText: t.kekText, live: live.token, baseUuid, revoked: chain.apiToken.token };
  }
  const history = async (name: string) => (await historyWithToken(name)).file;

  it('copies every row and the audit chain, verified, and leaves the SQLite file as it was', async () => {
    const file = await history('copy.db');
    const before = sqliteRows(file);
    expect(before.audit_events!.length).toBeGreaterThanOrEqual(10);
    expect(before.revocations!.length).toBeGreaterThan(0);
    const database = await target();
    const run = await cli(['migrate-store', '--to', database.url], { TOKENLADDER_DB: file });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/audit records, chain verified/);
    expect(run.stdout).not.toMatch(/postgres:\/\/[^@\s]*:[^@\s*]+@/); // no password printed

    expect(await postgresRows(database.url)).toEqual(before);
    expect(sqliteRows(file)).toEqual(before);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<AuditRow>({
        text: 'SELECT * FROM audit_events ORDER BY seq',
        types: int8,
      });
      const report = await verifyAuditRows(rows, sha256Hex);
      expect(report).toMatchObject({ ok: true, checked: before.audit_events!.length });
    } finally {
      await client.end();
    }
  });

  it('a server started on the copy serves what the SQLite one did: the live API-Token exchanges, the revoked one is refused', async () => {
    const { file, kekText, live, revoked, baseUuid } = await historyWithToken('serve.db');
    const database = await target();
    expect((await cli(['migrate-store', '--to', database.url], { TOKENLADDER_DB: file })).status).toBe(0);
    const port = await freePort();
    const server = await start(
      'node',
      [inject('cliBundle'), 'serve'],
      {
        PORT: String(port),
        TOKENLADDER_DATABASE_URL: database.url,
        TOKENLADDER_KEK: kekText,
        TOKENLADDER_ISSUER: 'http://tokenladder.test',
      },
      /listening on/,
      30_000,
    );
    try {
      const exchange = (token: string) =>
        fetch(`http://127.0.0.1:${port}/api/v1/base-tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        });
      const ok = await exchange(live);
      expect(ok.status).toBe(201);
      expect(await ok.json()).toMatchObject({ base_uuid: baseUuid, permission: 'rw' });
      const refused = await exchange(revoked);
      expect(refused.status).toBe(401);
      expect((await refused.json()).error.code).toBe('token_revoked');
    } finally {
      await server.stop();
    }
  });

  it('refuses a target that holds rows, and writes nothing to it', async () => {
    const file = await history('twice.db');
    const database = await target();
    expect((await cli(['migrate-store', '--to', database.url], { TOKENLADDER_DB: file })).status).toBe(0);
    const copied = await postgresRows(database.url);
    const again = await cli(['migrate-store', '--to', database.url], { TOKENLADDER_DB: file });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/not empty \(teams has rows|not empty \(users has rows/);
    expect(await postgresRows(database.url)).toEqual(copied);
  });

  it('refuses a source a process has open, and a source whose audit chain was tampered with: the target stays empty', async () => {
    const file = await history('refused.db');
    const database = await target();
    const open = new Database(file);
    open.pragma('journal_mode = WAL');
    try {
      const live = await cli(['migrate-store', '--to', database.url], { TOKENLADDER_DB: file });
      expect(live.status).toBe(1);
      expect(live.stderr).toMatch(/open in a running process/);
      open.prepare("UPDATE audit_events SET action = 'tampered' WHERE seq = 3").run();
    } finally {
      open.close();
    }
    const tampered = await cli(['migrate-store', '--to', database.url], { TOKENLADDER_DB: file });
    expect(tampered.status).toBe(1);
    expect(tampered.stderr).toMatch(
      /audit chain does not verify \(seq 3: hash_mismatch\); nothing was written/,
    );
    const rows = await postgresRows(database.url);
    expect(Object.values(rows).every((table) => table.length === 0)).toBe(true);
  });

  it('refuses a URL that is not PostgreSQL, with what to give instead', async () => {
    const file = await history('url.db');
    const run = await cli(['migrate-store', '--to', 'mysql://localhost/x'], { TOKENLADDER_DB: file });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/--to must be a PostgreSQL URL/);
  });
});
