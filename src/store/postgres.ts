// Node-only: PostgreSQL through `pg` (node-postgres) behind Kysely's own PostgresDialect, plus the
// atomic primitives on a checked-out client. Selected by TOKENLADDER_DATABASE_URL.
import { Kysely, PostgresDialect, type Compilable, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Logger } from '../lib/logger';
import type { Atomic, AtomicAfter, StatementResult } from './atomic';
import type { Database } from './schema';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (TOKENLADDER_DATABASE_URL). */
  url: string;
  /** Connections this instance keeps at most (TOKENLADDER_DATABASE_POOL_SIZE). */
  poolSize?: number;
  /** How long a request waits for a free connection (or a new one) before it fails with a 503. */
  connectionTimeoutMillis?: number;
  /** Session settings every connection gets (milliseconds). */
  statementTimeoutMillis?: number;
  lockTimeoutMillis?: number;
  idleInTransactionTimeoutMillis?: number;
  /** Where an idle connection's failure is reported (it fails no request). */
  log?: Pick<Logger, 'warn'>;
}

export interface PostgresStore {
  db: Kysely<Database>;
  atomic: Atomic;
  atomicAfter: AtomicAfter;
  dialect: 'postgres';
  pool: pg.Pool;
  /** Ends every connection; the store is unusable afterwards. */
  close(): Promise<void>;
}

export const DEFAULT_POOL_SIZE = 10;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * `bigint` (epoch seconds, `seq`, `count(*)`) as a JS number, as SQLite returns it. `pg` returns a
 * string by default, and `seq + 1` would concatenate. Beyond 2^53 a number would silently round: throw.
 */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`integer ${text} is beyond JavaScript's safe range`);
  return value;
}

/** `numeric` (what sum() of bigints gives): whole numbers checked like int8, fractions as they come. */
export function parseNumeric(text: string): number {
  return /^-?\d+$/.test(text) ? parseInt8(text) : Number(text);
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary' && oid === INT8_OID) return parseInt8;
    if (format !== 'binary' && oid === NUMERIC_OID) return parseNumeric;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** The pool's settings for one instance: small, fail-fast, with server-side timeouts on every session. */
export function poolConfig(options: PostgresStoreOptions): pg.PoolConfig {
  return {
    connectionString: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    keepAlive: true,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'tokenladder',
    // Sent in the startup packet, so every connection has them, also behind a pooler that keeps sessions.
    statement_timeout: options.statementTimeoutMillis ?? 5000,
    lock_timeout: options.lockTimeoutMillis ?? 2000,
    // tokenladder's transactions never wait on anything but the database: an instance idle inside one
    // is frozen or dead, and may be holding the audit head every instance's writes queue behind.
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMillis ?? 5000,
    types,
  };
}

export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const pool = new pg.Pool(poolConfig(options));
  // An idle connection that fails (server restart, network) must not crash the process: it is
  // dropped from the pool, and the next request opens a new one.
  pool.on('error', (error) => options.log?.warn('idle database connection failed', { error: error.message }));
  // pg-pool listens for errors only on idle connections. One that fails while checked out (the server
  // restarts, or ends a session stuck in a transaction: idle_in_transaction_session_timeout) and has no
  // query running would emit an unhandled 'error' and end the process. Its next query fails instead,
  // and the connection is dropped when released.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.log?.warn('database connection failed', { error: error.message }));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  async function transaction(run: (client: pg.PoolClient) => Promise<StatementResult[]>) {
    const client = await pool.connect();
    let broken = false;
    try {
      // READ COMMITTED (PostgreSQL's default, said here so a changed server default cannot change it):
      // a statement waiting on a row lock sees what the holder committed.
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      try {
        const results = await run(client);
        await client.query('COMMIT');
        return results;
      } catch (error) {
        // The first error is the one to report; after it PostgreSQL refuses everything but ROLLBACK.
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } catch (error) {
      if (!isServerError(error)) broken = true;
      throw error;
    } finally {
      // A connection that broke mid-transaction is destroyed, not handed to the next request.
      client.release(broken);
    }
  }

  const atomic: Atomic = async (statements) => {
    if (statements.length === 0) return [];
    const compiled = statements.map((statement) => statement.compile());
    return transaction((client) => runAll(client, compiled));
  };

  const atomicAfter: AtomicAfter = (first, build) =>
    transaction(async (client) => {
      const firstResults = await runAll(client, compile(first));
      return runAll(client, compile(await build(firstResults)));
    });

  return {
    db,
    atomic,
    atomicAfter,
    dialect: 'postgres',
    pool,
    // Kysely's destroy ends the pool it was given.
    close: () => db.destroy(),
  };
}

const compile = (statements: readonly Compilable[]) => statements.map((statement) => statement.compile());

async function runAll(client: pg.PoolClient, compiled: readonly CompiledQuery[]): Promise<StatementResult[]> {
  const results: StatementResult[] = [];
  for (const query of compiled) {
    const result = await client.query({ text: query.sql, values: query.parameters as unknown[] });
    results.push({
      rows: result.rows,
      // rowCount is the rows returned for a SELECT; a read changes nothing (as on SQLite and D1).
      numAffectedRows: query.query.kind === 'SelectQueryNode' ? 0 : (result.rowCount ?? 0),
    });
  }
  return results;
}

/** An error the server reported (it has a SQLSTATE): the connection itself is fine. */
function isServerError(error: unknown): boolean {
  return error instanceof pg.DatabaseError;
}

/** The URL without its password, for logs and messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
