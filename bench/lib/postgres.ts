// PostgreSQL for the benchmark: a database of its own on the machine's server (made and dropped as the
// tests do, test/helpers/postgres.ts), the CPU its backends use, and a counting proxy that sees every
// statement an instance sends (nothing of src/ is wrapped).
import { execFileSync } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { ADMIN_URL, createTestDatabase, postgresReachable } from '../../test/helpers/postgres';
import { processCpuTimes } from './children';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const redacted = (url: string) => {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
};

/**
 * A fresh database `tl_bench_<pid>_<random>`, dropped by `drop()`, and also when the process exits
 * any other way (an error, Ctrl-C) through psql, synchronously. Without a server: in CI (CI set) an
 * error; elsewhere null and the reason (the caller skips with one line).
 */
export async function createBenchDatabase(): Promise<BenchDatabase | { skipped: string }> {
  if (!(await postgresReachable())) {
    const reason = `PostgreSQL is not reachable at ${redacted(ADMIN_URL)} (start one, or set TOKENLADDER_TEST_POSTGRES_URL)`;
    if (process.env.CI) throw new Error(`${reason}; CI needs it for the postgres scenario`);
    return { skipped: reason };
  }
  const database = await createTestDatabase('tl_bench');
  let dropped = false;
  const dropNow = () => {
    if (dropped) return;
    dropped = true;
    try {
      execFileSync('psql', [ADMIN_URL, '-qc', `DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`], {
        stdio: 'ignore',
        timeout: 10_000,
      });
    } catch {
      process.stderr.write(`bench: could not drop the database ${database.name}; drop it by hand\n`);
    }
  };
  process.on('exit', dropNow);
  return {
    name: database.name,
    url: database.url,
    async drop() {
      if (dropped) return;
      await database.drop();
      dropped = true;
      process.off('exit', dropNow);
    },
  };
}

/** A connection to the server's maintenance database (never to the benchmark's: it would count there). */
export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  return client;
}

/** The PIDs of the server processes serving `database` now (its backends; this machine's server only). */
export async function backendPids(admin: pg.Client, database: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
  return rows.map((row) => row.pid);
}

/**
 * Starts measuring the CPU of `database`'s backends (from /proc, so only on the machine running the
 * server): the result gives what they used since, counting backends that appeared meanwhile from zero.
 * Background processes shared by all databases (WAL writer, checkpointer) are not counted.
 */
export async function backendCpuMeter(admin: pg.Client, database: string) {
  const start = new Map((await backendPids(admin, database)).map((pid) => [pid, processCpuTimes(pid)]));
  return async () => {
    let user = 0;
    let system = 0;
    for (const pid of await backendPids(admin, database)) {
      const now = processCpuTimes(pid);
      user += now.user - (start.get(pid)?.user ?? 0);
      system += now.system - (start.get(pid)?.system ?? 0);
    }
    return { user, system };
  };
}

/** What a counting proxy saw, per kind of message (see countingProxy). */
export interface StatementCounts {
  /** Statements run: simple queries (BEGIN, COMMIT) and extended-protocol executes. */
  statements: number;
  /** Round trips: each simple query, and each Sync (node-postgres sends Parse…Execute, Sync per query). */
  roundTrips: number;
  /** Transactions as PostgreSQL counts them: explicit ones (BEGIN) and every statement outside one. */
  transactions: number;
  /** Statements by their first word (SELECT, INSERT, UPDATE, BEGIN, COMMIT, …). */
  byKind: Record<string, number>;
  /** Statements by their text (whitespace collapsed, cut at 100 characters), and whether in a transaction. */
  byText: Record<string, number>;
}

export interface CountingProxy {
  /** The database URL through the proxy. */
  url: string;
  counts(): StatementCounts;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the server that reads the frontend side of the wire protocol (no TLS: the
 * machine's server on loopback) and counts statements, round trips and transactions. For the counting
 * run only: it adds a hop, so nothing timed goes through it.
 */
export async function countingProxy(databaseUrl: string): Promise<CountingProxy> {
  const target = new URL(databaseUrl);
  const counts: StatementCounts = { statements: 0, roundTrips: 0, transactions: 0, byKind: {}, byText: {} };
  const kind = (sql: string) => {
    const word = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
    counts.byKind[word] = (counts.byKind[word] ?? 0) + 1;
    return word;
  };
  const text = (sql: string, inTransaction: boolean) => {
    const key = `${inTransaction ? '[tx] ' : ''}${sql.replace(/\s+/g, ' ').trim().slice(0, 100)}`;
    counts.byText[key] = (counts.byText[key] ?? 0) + 1;
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    let buffer = Buffer.alloc(0);
    let started = false;
    let inTransaction = false;
    /** The SQL of the unnamed statement the next Execute runs (node-postgres parses unnamed). */
    let parsed = '';
    const executed = (word: string, sql: string) => {
      counts.statements++;
      text(sql, inTransaction || word === 'BEGIN');
      if (word === 'BEGIN' || word === 'START') inTransaction = true;
      if (!inTransaction) counts.transactions++;
      if (word === 'BEGIN' || word === 'START') counts.transactions++;
      if (word === 'COMMIT' || word === 'ROLLBACK' || word === 'END') inTransaction = false;
    };
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          // The startup message (or an SSL request) has a length and no type byte.
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code !== 80877103) started = true; // 80877103: SSLRequest, answered 'N', then the startup
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0]!);
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) return;
        const body = buffer.subarray(5, length + 1);
        buffer = buffer.subarray(length + 1);
        if (type === 'Q') {
          counts.roundTrips++;
          const sql = body.toString('utf8', 0, body.indexOf(0));
          executed(kind(sql), sql);
        } else if (type === 'P') {
          const nameEnd = body.indexOf(0);
          parsed = body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1));
        } else if (type === 'E') {
          executed(kind(parsed), parsed);
        } else if (type === 'S') {
          counts.roundTrips++;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as { port: number }).port);
  return {
    url: proxied.toString(),
    counts: () => structuredClone(counts),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
