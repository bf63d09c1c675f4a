// Builds a benchmark database: the real chain through the HTTP API (in process), then filler API-Tokens in bulk.
// The same seeding on either store: a SQLite file, or a PostgreSQL database (opened as the Node runtime opens it).
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { bootstrapAdmin } from '../../src/accounts/users';
import { createApp } from '../../src/app';
import { parseEnv } from '../../src/config';
import type { Logger } from '../../src/deps';
import { generateKekText, importKek } from '../../src/keys/kek';
import { openStore } from '../../src/runtime/node/database';
import { createNodeDeps, type NodeDepsOptions } from '../../src/runtime/node/deps';
import { readMigrations } from '../../src/store/migration-files';
import { configureSqlite, migrateSqlite } from '../../src/store/sqlite';
import { benchConfig, ISSUER, SETUP_SCRYPT } from './config';

export const PASSWORD = 'benchmark passphrase, long enough';
const ADMIN_EMAIL = 'admin@bench.test';
const LOGIN_EMAIL = 'login@bench.test';
const BATCH = 10_000;
/** API-Tokens minted through the API (real secrets) in each database; the rest are filler rows. */
export const REAL_API_TOKENS = 256;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Where a fixture lives: a SQLite file, or a PostgreSQL database (its URL). */
export type FixtureStore = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface Fixture {
  store: FixtureStore;
  kekText: string;
  baseUuid: string;
  /** Real API-Token secrets (rw), minted through the API. */
  apiTokens: string[];
  accountToken: string;
  /** A real Base-Token from the exchange, and the JWKS that verifies it. */
  baseToken: string;
  jwks: { keys: Record<string, unknown>[] };
  /** A user whose password hash uses the production scrypt parameters. */
  login: { email: string; password: string };
  apiTokenRows: number;
  setupSeconds: number;
  fillerSeconds: number;
}

/** Setup is not measured: its errors are worth seeing. */
const stderrLog: Logger = {
  info() {},
  warn: (message, fields) => console.error('fixture:', message, JSON.stringify(fields)),
  error: (message, fields) => console.error('fixture:', message, JSON.stringify(fields)),
};

type Fetch = (path: string, init?: RequestInit) => Response | Promise<Response>;

/** One API call; anything but the expected status stops the benchmark with the answer. */
async function call(
  fetch: Fetch,
  method: string,
  path: string,
  expect: number,
  token?: string,
  body?: unknown,
) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expect)
    throw new Error(`fixture: ${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** What seeding needs of a store beyond the app: the deps' store and bulk inserts of filler rows. */
interface SeedStore {
  store: Pick<NodeDepsOptions, 'raw' | 'store'>;
  /** The first API-Token's row (every column, whatever the schema has). */
  templateRow(): Promise<Record<string, unknown>>;
  /** Inserts rows (values in `columns` order) in one transaction. */
  insertBatch(columns: string[], rows: unknown[][]): Promise<void>;
  countApiTokens(): Promise<number>;
  close(): Promise<void>;
}

function sqliteSeedStore(file: string): SeedStore {
  const raw = new Database(file);
  configureSqlite(raw);
  migrateSqlite(raw, readMigrations());
  let insert: Database.Statement | undefined;
  const insertAll = raw.transaction((rows: unknown[][]) => {
    for (const values of rows) insert!.run(values);
  });
  return {
    store: { raw },
    templateRow: async () =>
      raw.prepare('SELECT * FROM api_tokens ORDER BY created_at LIMIT 1').get() as Record<string, unknown>,
    async insertBatch(columns, rows) {
      insert ??= raw.prepare(
        `INSERT INTO api_tokens (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      insertAll(rows);
    },
    countApiTokens: async () =>
      (raw.prepare('SELECT count(*) AS rows FROM api_tokens').get() as { rows: number }).rows,
    async close() {
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
    },
  };
}

/** Rows per INSERT statement on PostgreSQL (its limit is 65,535 parameters per statement). */
const PG_ROWS_PER_STATEMENT = 1000;

async function postgresSeedStore(url: string): Promise<SeedStore> {
  // Opened (and migrated) exactly as `tokenladder serve` opens TOKENLADDER_DATABASE_URL.
  const opened = await openStore(
    parseEnv({ TOKENLADDER_ISSUER: ISSUER, TOKENLADDER_DATABASE_URL: url }),
    stderrLog,
  );
  const pool = opened.postgres!.pool;
  return {
    store: { store: opened },
    templateRow: async () =>
      (await pool.query('SELECT * FROM api_tokens ORDER BY created_at LIMIT 1')).rows[0] as Record<
        string,
        unknown
      >,
    async insertBatch(columns, rows) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let from = 0; from < rows.length; from += PG_ROWS_PER_STATEMENT) {
          const chunk = rows.slice(from, from + PG_ROWS_PER_STATEMENT);
          const tuples = chunk.map(
            (_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`,
          );
          await client.query(
            `INSERT INTO api_tokens (${columns.join(', ')}) VALUES ${tuples.join(', ')}`,
            chunk.flat(),
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    countApiTokens: async () =>
      Number((await pool.query('SELECT count(*) AS rows FROM api_tokens')).rows[0].rows),
    async close() {
      await pool.query('ANALYZE');
      await opened.close();
    },
  };
}

/**
 * A migrated database (SQLite file or PostgreSQL) with an admin, a base, `realTokens` API-Tokens with
 * known secrets, an Account-Token, a login user hashed with the default scrypt cost, and filler rows
 * up to `apiTokenRows`.
 */
export async function buildFixture(
  where: FixtureStore | string,
  apiTokenRows: number,
  realTokens: number,
): Promise<Fixture> {
  const started = performance.now();
  const location: FixtureStore = typeof where === 'string' ? { kind: 'sqlite', file: where } : where;
  const seed =
    location.kind === 'sqlite' ? sqliteSeedStore(location.file) : await postgresSeedStore(location.url);
  try {
    return await seedFixture(location, seed, apiTokenRows, realTokens, started);
  } finally {
    await seed.close();
  }
}

async function seedFixture(
  location: FixtureStore,
  seed: SeedStore,
  apiTokenRows: number,
  realTokens: number,
  started: number,
): Promise<Fixture> {
  const kekText = generateKekText();
  const kek = await importKek(kekText);
  const deps = await createNodeDeps({
    ...seed.store,
    kek,
    config: benchConfig(SETUP_SCRYPT),
    log: stderrLog,
  });
  const app = createApp(deps);
  const api: Fetch = (path, init) => app.request(path, init);

  await bootstrapAdmin(deps, ADMIN_EMAIL, PASSWORD);
  const { token: accountToken } = await call(api, 'POST', '/api/v1/account-tokens', 201, undefined, {
    email: ADMIN_EMAIL,
    password: PASSWORD,
    name: 'bench',
  });
  const admin = String(accountToken);
  const { uuid: baseUuid } = await call(api, 'POST', '/api/v1/bases', 201, admin, { name: 'Bench' });
  const apiTokens: string[] = [];
  for (let i = 0; i < realTokens; i++) {
    const minted = await call(api, 'POST', `/api/v1/bases/${String(baseUuid)}/api-tokens`, 201, admin, {
      name: `bench-${i}`,
      permission: 'rw',
    });
    apiTokens.push(String(minted.token));
  }
  // The login scenario must pay the production cost: this one user is created by an app hashing with the default parameters.
  const productionApp = createApp(
    await createNodeDeps({ ...seed.store, kek, config: benchConfig(), log: stderrLog }),
  );
  await call((path, init) => productionApp.request(path, init), 'POST', '/api/v1/users', 201, admin, {
    email: LOGIN_EMAIL,
    password: PASSWORD,
    role: 'user',
  });
  const { base_token: baseToken } = await call(api, 'POST', '/api/v1/base-tokens', 201, apiTokens[0]);
  const jwks = (await call(api, 'GET', '/.well-known/jwks.json', 200)) as Fixture['jwks'];
  const setupSeconds = (performance.now() - started) / 1000;

  const fillerStarted = performance.now();
  // Filler rows copy a real token's row (whatever the schema's columns are) with a fresh id, name and hash.
  const template = await seed.templateRow();
  const columns = Object.keys(template);
  const [idAt, nameAt, hashAt] = ['id', 'name', 'secret_hash'].map((column) => columns.indexOf(column)) as [
    number,
    number,
    number,
  ];
  const fillerRows = (from: number, to: number): unknown[][] => {
    const random = randomBytes((to - from) * 48); // 16 for the id, 32 for the hash, per row
    const rows: unknown[][] = [];
    for (let i = from; i < to; i++) {
      const at = (i - from) * 48;
      let id = '';
      for (let j = at; j < at + 16; j++) id += BASE32[random[j]! & 31];
      const values = columns.map((column) => (column === 'last_used_at' ? null : template[column]));
      values[idAt] = id;
      values[nameAt] = `filler-${i}`;
      values[hashAt] = random.toString('hex', at + 16, at + 48);
      rows.push(values);
    }
    return rows;
  };
  const filler = Math.max(0, apiTokenRows - realTokens);
  for (let from = 0; from < filler; from += BATCH)
    await seed.insertBatch(columns, fillerRows(from, Math.min(filler, from + BATCH)));
  const fillerSeconds = (performance.now() - fillerStarted) / 1000;
  const rows = await seed.countApiTokens();

  return {
    store: location,
    kekText,
    baseUuid: String(baseUuid),
    apiTokens,
    accountToken: admin,
    baseToken: String(baseToken),
    jwks,
    login: { email: LOGIN_EMAIL, password: PASSWORD },
    apiTokenRows: rows,
    setupSeconds,
    fillerSeconds,
  };
}

/** The SQLite file of a fixture (the ceiling servers read it directly). */
export function sqliteFile(fixture: Fixture): string {
  if (fixture.store.kind !== 'sqlite') throw new Error('bench: this server needs a SQLite fixture');
  return fixture.store.file;
}

/** The environment a tokenladder server child (bench/servers/tokenladder.ts) needs to serve a fixture. */
export function serverEnv(fixture: Fixture): Record<string, string> {
  const env: Record<string, string> = { BENCH_KEK: fixture.kekText };
  if (fixture.store.kind === 'sqlite') env.BENCH_DB = fixture.store.file;
  else env.BENCH_DATABASE_URL = fixture.store.url;
  return env;
}
