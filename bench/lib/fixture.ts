// Builds a benchmark database: the real chain through the HTTP API (in process), then filler API-Tokens in bulk.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { bootstrapAdmin } from '../../src/accounts/users';
import { createApp } from '../../src/app';
import type { Logger } from '../../src/deps';
import { generateKekText, importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { readMigrations } from '../../src/store/migration-files';
import { configureSqlite, migrateSqlite } from '../../src/store/sqlite';
import { benchConfig, SETUP_SCRYPT } from './config';

export const PASSWORD = 'benchmark passphrase, long enough';
const ADMIN_EMAIL = 'admin@bench.test';
const LOGIN_EMAIL = 'login@bench.test';
const BATCH = 10_000;
/** API-Tokens minted through the API (real secrets) in each database; the rest are filler rows. */
export const REAL_API_TOKENS = 256;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export interface Fixture {
  file: string;
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

/**
 * A migrated SQLite file with an admin, a base, `realTokens` API-Tokens with known secrets, an
 * Account-Token, a login user hashed with the default scrypt cost, and filler rows up to `apiTokenRows`.
 */
export async function buildFixture(file: string, apiTokenRows: number, realTokens: number): Promise<Fixture> {
  const started = performance.now();
  const raw = new Database(file);
  configureSqlite(raw);
  migrateSqlite(raw, readMigrations());
  const kekText = generateKekText();
  const kek = await importKek(kekText);
  const deps = await createNodeDeps({ raw, kek, config: benchConfig(SETUP_SCRYPT), log: stderrLog });
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
  const productionApp = createApp(await createNodeDeps({ raw, kek, config: benchConfig(), log: stderrLog }));
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
  const template = raw.prepare('SELECT * FROM api_tokens ORDER BY created_at LIMIT 1').get() as Record<
    string,
    unknown
  >;
  const columns = Object.keys(template);
  const insert = raw.prepare(
    `INSERT INTO api_tokens (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  const values = columns.map((column) => (column === 'last_used_at' ? null : template[column]));
  const [idAt, nameAt, hashAt] = ['id', 'name', 'secret_hash'].map((column) => columns.indexOf(column)) as [
    number,
    number,
    number,
  ];
  const insertBatch = raw.transaction((from: number, to: number) => {
    const random = randomBytes((to - from) * 48); // 16 for the id, 32 for the hash, per row
    for (let i = from; i < to; i++) {
      const at = (i - from) * 48;
      let id = '';
      for (let j = at; j < at + 16; j++) id += BASE32[random[j]! & 31];
      values[idAt] = id;
      values[nameAt] = `filler-${i}`;
      values[hashAt] = random.toString('hex', at + 16, at + 48);
      insert.run(values);
    }
  });
  const filler = Math.max(0, apiTokenRows - realTokens);
  for (let from = 0; from < filler; from += BATCH) insertBatch(from, Math.min(filler, from + BATCH));
  raw.pragma('wal_checkpoint(TRUNCATE)');
  const fillerSeconds = (performance.now() - fillerStarted) / 1000;
  const { rows } = raw.prepare('SELECT count(*) AS rows FROM api_tokens').get() as { rows: number };
  raw.close();

  return {
    file,
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
