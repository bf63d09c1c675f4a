// Cloudflare D1 behind Kysely, plus the atomic primitive on D1's batch(). Runtime-neutral: D1 is typed
// structurally, so neither the core nor this file needs @cloudflare/workers-types.
//
// A small dialect of our own rather than kysely-d1 0.4.0: that one still returns the deprecated
// `numUpdatedOrDeletedRows`, which makes Kysely 0.28 log "outdated driver" on every isolate start, and its
// types import @cloudflare/workers-types. What D1 needs is Kysely's own SQLite adapter, compiler and
// introspector plus the ~20 lines of driver below.
import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Atomic, StatementResult } from './atomic';
import type { Database } from './schema';

/** The part of a D1 binding (`env.DB`) tokenladder uses. */
export interface D1Binding {
  prepare(query: string): D1Statement;
  batch(statements: D1Statement[]): Promise<D1Result[]>;
}

export interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  all(): Promise<D1Result>;
}

export interface D1Result {
  results?: unknown[];
  meta: { changes?: number; last_row_id?: number };
}

/**
 * Kysely over D1, one `prepare().bind().all()` per query. D1 has no interactive transactions, so
 * Kysely's `transaction()` throws here by design: multi-statement writes go through `atomic`.
 */
export function createD1Store(database: D1Binding): { db: Kysely<Database>; atomic: Atomic } {
  const db = new Kysely<Database>({ dialect: d1Dialect(database) });
  const atomic: Atomic = async (queries) => {
    if (queries.length === 0) return [];
    const compiled = queries.map((query) => query.compile());
    // D1 runs a batch as one SQL transaction: every statement commits, or none does.
    const results = await database.batch(
      compiled.map(({ sql, parameters }) => database.prepare(sql).bind(...parameters)),
    );
    return results.map(
      (result, index): StatementResult => ({
        rows: result.results ?? [],
        // D1 reports SQLite's change counter after a SELECT too (the previous write's count): a read changes nothing.
        numAffectedRows: compiled[index]!.query.kind === 'SelectQueryNode' ? 0 : (result.meta.changes ?? 0),
      }),
    );
  };
  return { db, atomic };
}

function d1Dialect(database: D1Binding): Dialect {
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const result = await database
        .prepare(query.sql)
        .bind(...query.parameters)
        .all();
      const isSelect = query.query.kind === 'SelectQueryNode';
      return {
        rows: (result.results ?? []) as R[],
        ...(!isSelect && { numAffectedRows: BigInt(result.meta.changes ?? 0) }),
        ...(!isSelect && result.meta.last_row_id != null && { insertId: BigInt(result.meta.last_row_id) }),
      };
    },
    streamQuery() {
      throw new Error('D1 does not stream query results');
    },
  };
  const noTransactions = async () => {
    throw new Error('D1 has no interactive transactions: use atomic([...]) (one batch) instead');
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: noTransactions,
    commitTransaction: noTransactions,
    rollbackTransaction: noTransactions,
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  };
}
