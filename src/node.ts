// The Node runtime: better-sqlite3 file database, KEK from env or a 0600 file, @hono/node-server.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { passwordLengthDeviation } from './accounts/passwords';
import { nodeScrypt } from './accounts/scrypt';
import { bootstrapAdmin, passwordPolicyProblem } from './accounts/users';
import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import { appConfigFromEnv, parseEnv, type AppConfig, type Env } from './config';
import { createDeps } from './create-deps';
import { consoleLogger, type Deps, type Logger } from './deps';
import { base64url, randomBytes } from './lib/bytes';
import { generateKekText, importKek } from './keys/kek';
import { readMigrations } from './store/migration-files';
import { configureSqlite, createSqliteStore, migrateSqlite } from './store/sqlite';

export interface NodeDepsOptions {
  raw: Database.Database;
  kek: CryptoKey;
  config: AppConfig;
  clock?: Clock;
  log?: Logger;
}

/** Wires the app's dependencies over an open, migrated SQLite database. Shared by the server, the CLI and tests. */
export async function createNodeDeps({
  raw,
  kek,
  config,
  clock = systemClock,
  log = consoleLogger,
}: NodeDepsOptions): Promise<Deps> {
  const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
  return createDeps({ ...createSqliteStore(raw), kek, config, clock, log, scrypt: nodeScrypt, hashToken });
}

/** Opens (creating the folder) and migrates the database named by TOKENLADDER_DB. */
export function openDatabase(env: Env): { raw: Database.Database; applied: string[] } {
  const file = env.TOKENLADDER_DB;
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
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

/**
 * The key-encryption key: TOKENLADDER_KEK, else a file beside the database (created 0600 on first start).
 * A database that already holds sealed keys never gets a fresh KEK silently: that would lose them.
 */
export async function loadKek(env: Env, raw: Database.Database): Promise<CryptoKey> {
  if (env.TOKENLADDER_KEK) return importKek(env.TOKENLADDER_KEK);
  if (env.TOKENLADDER_DB === ':memory:') return importKek(generateKekText());
  const file = env.TOKENLADDER_KEK_FILE ?? join(dirname(resolve(env.TOKENLADDER_DB)), 'kek.key');
  if (existsSync(file)) return importKek(readFileSync(file, 'utf8').trim());
  const { keys } = raw.prepare('SELECT count(*) AS keys FROM signing_keys').get() as { keys: number };
  if (keys > 0)
    throw new Error(
      `the database has signing keys but the key-encryption key file ${file} is missing; set TOKENLADDER_KEK or restore the file`,
    );
  const text = generateKekText();
  writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  return importKek(text);
}

/** First start on an empty database: a system admin from the environment, or with a generated password shown once. */
export async function ensureAdmin(deps: Deps, env: Env, print: (line: string) => void): Promise<void> {
  const email = env.TOKENLADDER_ADMIN_EMAIL ?? 'admin@tokenladder.local';
  const generated = env.TOKENLADDER_ADMIN_PASSWORD === undefined;
  const password = env.TOKENLADDER_ADMIN_PASSWORD ?? base64url(randomBytes(24));
  if (!generated) {
    const problem = passwordPolicyProblem(deps, password, { email });
    if (problem) throw new Error(`TOKENLADDER_ADMIN_PASSWORD: ${problem}`);
  }
  const existing = await deps.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (existing || !(await bootstrapAdmin(deps, email, password))) return;
  print(`tokenladder: created the first system admin ${email}`);
  if (generated)
    print(`tokenladder: its generated password (shown only this once, store it now): ${password}`);
}

/** `tokenladder serve`: everything `npm start` does. */
export async function startServer(processEnv: Record<string, string | undefined> = process.env) {
  const env = parseEnv(processEnv);
  const { raw, applied } = openDatabase(env);
  const config = appConfigFromEnv(env);
  const deps = await createNodeDeps({ raw, kek: await loadKek(env, raw), config });
  try {
    // Open the signing key now: a wrong KEK stops the start instead of failing every exchange later.
    await deps.keys.current();
  } catch (error) {
    raw.close();
    throw new Error(
      `TOKENLADDER_KEK: it does not decrypt the signing keys stored in the database; set the KEK they were sealed with (${(error as Error).message})`,
    );
  }
  if (applied.length > 0) deps.log.info('applied migrations', { migrations: applied });
  const deviation = passwordLengthDeviation(config);
  if (deviation) deps.log.warn('password policy deviates from NIST SP 800-63B-4', { deviation });
  await ensureAdmin(deps, env, (line) => process.stdout.write(`${line}\n`));

  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: env.PORT }, (info) => {
    deps.log.info('listening', { port: info.port, database: env.TOKENLADDER_DB, issuer: config.issuer });
  });
  // Slow-client limits tighter than Node's defaults (60 s headers, 300 s request).
  Object.assign(server, { headersTimeout: 10_000, requestTimeout: 30_000 });
  const stop = () => server.close(() => raw.close());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { server, deps, stop };
}
