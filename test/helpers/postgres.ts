// Test databases on the PostgreSQL server the machine runs (127.0.0.1:5432, trust auth, or
// TOKENLADDER_TEST_POSTGRES_URL). Every test makes its own database and drops it; others' are never touched.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL =
  process.env.TOKENLADDER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let reachable: Promise<boolean> | undefined;

/** Whether the server answers (asked once per test file). */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/**
 * For `describe.skipIf(!(await hasPostgres()))`: true when the server answers. Without one, outside
 * CI, says once how to run these suites; in CI (CI set) a missing server fails the file instead.
 */
export async function hasPostgres(): Promise<boolean> {
  if (await postgresReachable()) return true;
  if (process.env.CI)
    throw new Error(`PostgreSQL is not reachable at ${redact(ADMIN_URL)}; CI needs it (see .ci/run)`);
  console.warn(
    `PostgreSQL suites skipped: no server at ${redact(ADMIN_URL)} (start one, or set TOKENLADDER_TEST_POSTGRES_URL)`,
  );
  return false;
}

export interface TestDatabase {
  name: string;
  /** A connection URL for this database. */
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database of its own (dropped by `drop()`, which also ends what is still connected). */
export async function createTestDatabase(prefix = 'tl_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
