import Database from 'better-sqlite3';
import { createApp } from '../../src/app';
import { createClient as createTypedClient } from '../../src/client';
import type { AppConfig } from '../../src/config';
import { VERSION } from '../../src/config';
import type { Logger } from '../../src/deps';
import { bootstrapAdmin } from '../../src/accounts/users';
import { generateKekText, importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { POSTGRES_MIGRATIONS_DIR, readMigrations } from '../../src/store/migration-files';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres';
import { migratePostgres } from '../../src/store/postgres-migrate';
import { configureSqlite, migrateSqlite } from '../../src/store/sqlite';
import { dbDigest, pgDigest, type DigestOptions } from './db-digest';
import { createTestDatabase, type TestDatabase } from './postgres';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
export const PASSWORD = 'a perfectly fine passphrase';
export const START = Date.UTC(2026, 10, 1, 12, 0, 0);

/** A clock the test moves by hand. */
export function frozenClock(start = START) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

export const silentLog: Logger & { lines: string[] } = Object.assign(
  { lines: [] as string[] },
  {
    info() {},
    warn() {},
    error(message: string, fields?: Record<string, unknown>) {
      silentLog.lines.push(`${message} ${JSON.stringify(fields)}`);
    },
  },
);

export const testConfig = (overrides: Partial<AppConfig> = {}): AppConfig => ({
  version: VERSION,
  issuer: 'http://tokenladder.test',
  baseTokenTtlSeconds: 3 * 86400,
  accountTokenMaxAgeSeconds: null,
  passwordMinLength: 15,
  passwordMaxLength: 128,
  // High enough that no test trips it by accident (the suite signs in many times from one address);
  // test/http/credentials.test.ts sets low limits where it tests throttling.
  loginThrottle: { accountLimit: 1000, addressLimit: 100_000, windowSeconds: 900 },
  // The production default; test/guarantees/class-07-feed-growth.test.ts sets a low one.
  apiTokenCreateLimit: 1000,
  // Cheap parameters keep the suite fast; the production default is checked in its own test.
  scrypt: { ln: 10, r: 8, p: 1 },
  bodyLimitBytes: 16 * 1024,
  jwksMaxAgeSeconds: 300,
  keyActivationDelaySeconds: 3600,
  // Tests say where they come from with this header (app.request has no socket).
  clientIpHeader: 'x-test-client-ip',
  ipv6PrefixLength: 64,
  auditRetentionSeconds: 365 * 86400,
  revocationFeedToken: null,
  revocationPollSeconds: 30,
  revocationStream: { maxStreams: 1000, maxLifetimeSeconds: 3600, heartbeatMs: 15_000 },
  corsOrigins: [],
  accessLog: false,
  oauth: { resourceUrlTemplate: null, introspectionClients: [] },
  seatable: {
    dtableServer: 'http://bases.test/',
    dtableSocket: 'http://bases.test/',
    dtableDb: 'http://bases.test/dtable-db/',
    useApiGateway: false,
  },
  ...overrides,
});

export type TestStore = 'sqlite' | 'postgres';

/** The store tests run on unless they say: TOKENLADDER_TEST_STORE=postgres runs them on PostgreSQL. */
export const DEFAULT_TEST_STORE: TestStore =
  process.env.TOKENLADDER_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/**
 * Whether test apps run on SQLite here. A test that reads or changes the SQLite database directly
 * (`t.raw`: triggers, prepared-statement spies, its own throttle rows) runs with `it.runIf(ON_SQLITE)`:
 * on SQLite in the `fast` project, left out of the `postgres` project's rerun.
 */
export const ON_SQLITE = DEFAULT_TEST_STORE === 'sqlite';

export interface TestAppOptions {
  config?: Partial<AppConfig>;
  /** A database file to open (or reopen); in-memory by default. SQLite only. */
  file?: string;
  kekText?: string;
  /** Where the app logs (through the redacting wrapper createDeps adds); silentLog by default. */
  log?: Logger;
  /**
   * `postgres`: a database of its own on the test server (test/helpers/postgres.ts), migrated,
   * dropped by `close()`. Default {@link DEFAULT_TEST_STORE}.
   */
  store?: TestStore;
}

/** PostgreSQL databases test apps made and have not dropped yet (see closeOpenedTestApps). */
const openPostgres = new Set<{ close(): Promise<void> }>();

/**
 * Drops every PostgreSQL database a test app of this file made and did not close itself; the
 * `postgres` vitest project calls it after each file (test/setup/postgres-store.ts).
 */
export async function closeOpenedTestApps(): Promise<void> {
  for (const opened of [...openPostgres]) await opened.close();
}

/** A PostgreSQL store over a new, migrated database of its own; `close()` drops it. */
export async function testPostgresStore(): Promise<{
  database: TestDatabase;
  store: PostgresStore;
  close(): Promise<void>;
}> {
  const database = await createTestDatabase();
  // Small pools: many tests run at once on a 2-core machine, each with its own database.
  const store = createPostgresStore({ url: database.url, poolSize: 4 });
  try {
    await migratePostgres(store.pool, readMigrations(POSTGRES_MIGRATIONS_DIR));
  } catch (error) {
    await store.close();
    await database.drop();
    throw error;
  }
  const opened = {
    database,
    store,
    async close() {
      if (!openPostgres.delete(opened)) return;
      await store.close();
      await database.drop();
    },
  };
  openPostgres.add(opened);
  return opened;
}

/**
 * The real app over a real, migrated store (in-memory SQLite, or a PostgreSQL database of its own),
 * with a frozen clock, fresh keys and a bootstrap admin.
 */
export async function testApp(options: TestAppOptions = {}) {
  const kind = options.store ?? (options.file ? 'sqlite' : DEFAULT_TEST_STORE);
  const clock = frozenClock();
  const kekText = options.kekText ?? generateKekText();
  const common = {
    kek: await importKek(kekText),
    config: testConfig(options.config),
    clock,
    log: options.log ?? silentLog,
  };
  let raw: Database.Database;
  let postgres: Awaited<ReturnType<typeof testPostgresStore>> | undefined;
  let deps: Awaited<ReturnType<typeof createNodeDeps>>;
  if (kind === 'postgres') {
    postgres = await testPostgresStore();
    // Tests that read SQLite directly (t.raw) are SQLite's; on PostgreSQL they use digest() and deps.db.
    raw = undefined as unknown as Database.Database;
    deps = await createNodeDeps({ ...common, store: postgres.store });
  } else {
    raw = new Database(options.file ?? ':memory:');
    configureSqlite(raw);
    migrateSqlite(raw, readMigrations());
    deps = await createNodeDeps({ ...common, raw });
  }
  await bootstrapAdmin(deps, ADMIN.email, ADMIN.password);
  const app = createApp(deps);
  const client = createClient(app);
  /** The typed client as `token` (see inProcessClient): bodies typed by the documented responses. */
  const api = (token?: string) => inProcessClient({ app }, token).client;
  /** The "nothing changed" digest of every table (see test/helpers/db-digest.ts), on either store. */
  const digest = async (digestOptions: DigestOptions = {}) =>
    postgres ? pgDigest(postgres.store.pool, digestOptions) : dbDigest(raw, digestOptions);
  /** Ends the store: the PostgreSQL database is dropped (SQLite's in-memory one is closed). */
  const close = async () => {
    if (postgres) await postgres.close();
    else raw.close();
  };
  /** PostgreSQL: the URL of the app's own database (for a second connection); undefined on SQLite. */
  const databaseUrl = postgres?.database.url;
  return { app, deps, raw, clock, kekText, store: kind, databaseUrl, digest, close, ...client, api };
}

export type TestApp = Awaited<ReturnType<typeof testApp>>;

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: `call` sends what the typed client (`t.api`) refuses to (bad bodies, wrong methods, raw paths) and reads whatever came back
  body: any;
  headers: Headers;
}

export function createClient(app: {
  request: (path: string, init?: RequestInit) => Response | Promise<Response>;
}) {
  async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await app.request(path, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  }

  async function login(email = ADMIN.email, password = ADMIN.password): Promise<string> {
    const response = await call('POST', '/api/v1/account-tokens', { body: { email, password } });
    if (response.status !== 201) throw new Error(`login failed: ${JSON.stringify(response.body)}`);
    return response.body.token;
  }

  /** Creates a user as `adminToken` and signs them in. */
  async function userWithToken(adminToken: string, email: string, extra: Record<string, unknown> = {}) {
    const created = await call('POST', '/api/v1/users', {
      token: adminToken,
      body: { email, password: PASSWORD, role: 'user', ...extra },
    });
    if (created.status !== 201) throw new Error(`user create failed: ${JSON.stringify(created.body)}`);
    return { id: created.body.id as string, token: await login(email, PASSWORD) };
  }

  async function createBase(token: string, name: string): Promise<string> {
    const response = await call('POST', '/api/v1/bases', { token, body: { name } });
    if (response.status !== 201) throw new Error(`base create failed: ${JSON.stringify(response.body)}`);
    return response.body.uuid;
  }

  async function createApiToken(token: string, baseUuid: string, name: string, permission: 'r' | 'rw') {
    const response = await call('POST', `/api/v1/bases/${baseUuid}/api-tokens`, {
      token,
      body: { name, permission },
    });
    if (response.status !== 201) throw new Error(`api token create failed: ${JSON.stringify(response.body)}`);
    return response.body as { id: string; token: string };
  }

  return { call, login, userWithToken, createBase, createApiToken };
}

/**
 * The typed client (src/client: openapi-fetch over the generated `paths`) calling the app in-process,
 * so response bodies are checked against the documented shapes; `calls` lists `METHOD /path` per request.
 */
export function inProcessClient(t: { app: ReturnType<typeof createApp> }, token?: string) {
  const calls: string[] = [];
  const client = createTypedClient({
    baseUrl: 'http://tokenladder.test',
    token,
    fetch: async (request) => {
      calls.push(`${request.method} ${new URL(request.url).pathname}`);
      return t.app.request(request);
    },
  });
  return { client, calls };
}
