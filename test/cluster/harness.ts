// The multi-instance harness (research/postgres-multi-instance.md §6): several `tokenladder serve`
// processes on loopback ports over one database, a load driver that spreads requests over them like a
// load balancer, faults (SIGKILL, SIGSTOP/SIGCONT), and invariant checks that read the database itself.
// Backend-neutral: PostgreSQL (TOKENLADDER_DATABASE_URL, the multi-instance target) or one SQLite file
// shared by the processes (today's store; how the harness itself is checked).
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { verifyAuditRows, type AuditRow, type ChainReport } from '../../src/audit/chain';
import type { AuditAction } from '../../src/audit/events';
import { envSchema } from '../../src/config';
import { baseAudience } from '../../src/verify';
import { freePort, ROOT, start, type Running } from '../helpers/processes';

// ---------------------------------------------------------------------------------------------------
// Backends and capabilities

export type Backend = { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };

/**
 * Whether this build reads TOKENLADDER_DATABASE_URL (the PostgreSQL store). Without it every process
 * would silently open a SQLite file of its own, so PostgreSQL scenarios must not run.
 */
export const postgresStoreBuilt = 'TOKENLADDER_DATABASE_URL' in envSchema.shape;

export const ADMIN_EMAIL = 'admin@cluster.test';
export const ADMIN_PASSWORD = 'a cluster admin password';
/** The header the instances trust for the client address (TOKENLADDER_CLIENT_IP_HEADER). */
export const CLIENT_IP_HEADER = 'x-cluster-client-ip';
/** A client address of its own (a 10.x address no other request uses). */
export const randomAddress = () => `10.${[...randomBytes(3)].join('.')}`;
/** Every instance's `iss`: one issuer for the whole cluster, whichever process signs. */
export const ISSUER = 'http://tokenladder.cluster.test';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------
// Instances

export type InstanceState = 'up' | 'stopped' | 'killed' | 'exited';

export class Instance {
  state: InstanceState = 'up';
  readonly url: string;
  /** Output of every run of this instance, oldest first (restarts append). */
  private readonly pastOutput: string[] = [];
  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private running: Running,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.watch();
  }

  get pid(): number {
    return this.running.child.pid!;
  }

  private watch() {
    const child = this.running.child;
    child.once('exit', () => {
      if (this.running.child === child && this.state !== 'killed') this.state = 'exited';
    });
  }

  private exited(): Promise<void> {
    const child = this.running.child;
    return new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
  }

  /** SIGKILL: no shutdown at all; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.state = 'killed';
    this.running.child.kill('SIGKILL');
    await this.exited();
  }

  /** SIGSTOP: the process freezes (connections it holds stay open, its requests hang). */
  pause(): void {
    this.running.child.kill('SIGSTOP');
    this.state = 'stopped';
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    this.running.child.kill('SIGCONT');
    this.state = 'up';
  }

  /** Starts the process again on the same port with the same environment (after `kill()`). */
  async restart(): Promise<void> {
    if (this.state === 'up' || this.state === 'stopped') throw new Error(`${this.name} is still running`);
    this.pastOutput.push(this.output());
    this.running = await start('node', ['bin/tokenladder.mjs', 'serve'], this.env, /"listening"/, 60_000);
    this.state = 'up';
    this.watch();
  }

  /** SIGTERM (after SIGCONT if paused); resolves once it has exited. */
  async shutdown(): Promise<void> {
    const child = this.running.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (this.state === 'stopped') this.resume();
    const gone = this.exited();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }

  /** stdout and stderr of the current run. */
  output(): string {
    return this.running.stdout() + this.running.stderr();
  }

  /** Everything this instance printed, across restarts. */
  allOutput(): string {
    return [...this.pastOutput, this.output()].join('\n');
  }
}

export interface ClusterOptions {
  backend: Backend;
  /** How many instances (named A, B, C, …). */
  count: number;
  /** Extra environment for every instance. */
  env?: Record<string, string>;
  /** Start all at once (the first-start race) or one after another. Default: at once. */
  together?: boolean;
}

export interface Cluster {
  backend: Backend;
  instances: Instance[];
  /** The shared KEK (base64url, 32 bytes). */
  kek: string;
  byName(name: string): Instance;
  /** SIGTERM to every instance still running (paused ones are resumed first). */
  stop(): Promise<void>;
  /** The last `lines` lines of each instance's output, for failure messages. */
  logs(lines?: number): string;
}

/**
 * Starts `count` instances of `tokenladder serve` over one database, sharing the KEK and the issuer,
 * with scrypt lowered as the bench fixture does (ln=10) so sign-ins cost milliseconds, not the cores.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const kek = randomBytes(32).toString('base64url');
  const common: Record<string, string> = {
    HOST: '127.0.0.1',
    TOKENLADDER_ISSUER: ISSUER,
    TOKENLADDER_KEK: kek,
    TOKENLADDER_ADMIN_EMAIL: ADMIN_EMAIL,
    TOKENLADDER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
    // The mixed loads create API-Tokens as one admin, faster than the default daily quota (1000)
    // allows; the quota is tested on its own (test/guarantees/class-07-feed-growth.test.ts).
    TOKENLADDER_API_TOKEN_CREATE_LIMIT: '1000000',
    // The driver says which client each request comes from (CLIENT_IP_HEADER), as a proxy in front would:
    // the mixed load's failed sign-ins come from many addresses, a throttle scenario's from one.
    TOKENLADDER_CLIENT_IP_HEADER: CLIENT_IP_HEADER,
    ...options.env,
  };
  const names = Array.from({ length: options.count }, (_, i) => String.fromCharCode(65 + i));
  const envOf = (port: number): Record<string, string> => {
    const env: Record<string, string> = { ...common, PORT: String(port) };
    if (options.backend.kind === 'sqlite') return { ...env, TOKENLADDER_DB: options.backend.file };
    // TOKENLADDER_DB unset: the PostgreSQL store is chosen by the URL alone (a build that ignored it is
    // never started here: see postgresStoreBuilt, and assertOnPostgres after the start).
    return {
      ...env,
      TOKENLADDER_DATABASE_URL: options.backend.url,
      TOKENLADDER_DATABASE_POOL_SIZE: env.TOKENLADDER_DATABASE_POOL_SIZE ?? '5',
    };
  };
  const instances: Instance[] = [];
  const launch = async (name: string) => {
    const port = await freePort();
    const env = envOf(port);
    const running = await start('node', ['bin/tokenladder.mjs', 'serve'], env, /"listening"/, 60_000);
    const instance = new Instance(name, port, env, running);
    instances.push(instance);
    return instance;
  };
  const cluster: Cluster = {
    backend: options.backend,
    instances,
    kek,
    byName: (name) => {
      const found = instances.find((instance) => instance.name === name);
      if (!found) throw new Error(`no instance ${name}`);
      return found;
    },
    async stop() {
      await Promise.all(instances.map((instance) => instance.shutdown()));
    },
    logs: (lines = 15) =>
      instances
        .map(
          (instance) =>
            `--- ${instance.name} (${instance.state}) ---\n${instance.allOutput().trimEnd().split('\n').slice(-lines).join('\n')}`,
        )
        .join('\n'),
  };
  try {
    if (options.together ?? true) {
      const results = await Promise.allSettled(names.map(launch));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } else for (const name of names) await launch(name);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  instances.sort((a, b) => a.name.localeCompare(b.name));
  return cluster;
}

// ---------------------------------------------------------------------------------------------------
// The load balancer

export type Failure = 'refused' | 'reset' | 'timeout';

export interface Outcome {
  op: string;
  instance: string;
  status: number | Failure;
  ms: number;
  /** When the answer (or the failure) came, Date.now(). */
  at: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes, read field by field by the scenarios
  body: any;
}

function failureOf(error: unknown): Failure {
  const e = error as { name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  if (e?.cause?.code === 'ECONNREFUSED') return 'refused';
  return 'reset';
}

export interface RequestOptions {
  token?: string;
  scheme?: 'Bearer' | 'Token';
  body?: unknown;
  /** Send to this instance only (no balancing, no retry elsewhere). */
  to?: Instance;
  headers?: Record<string, string>;
}

/**
 * Spreads requests round-robin over the instances. A refused connection (the process is gone) is
 * retried on the next instance and the dead one skipped for a second, as a load balancer's health
 * check would; a reset or a timeout is not retried (the request may have been processed), it is
 * reported as such. Every outcome is recorded.
 */
export class Balancer {
  readonly outcomes: Outcome[] = [];
  private next = 0;
  private readonly downUntil = new Map<Instance, number>();
  constructor(
    private readonly instances: Instance[],
    /** Longer than the store's lock_timeout (2 s), so a request waiting on a lock shows its 503. */
    private readonly timeoutMs = 3000,
  ) {}

  private pick(): Instance {
    const now = Date.now();
    for (let tries = 0; tries < this.instances.length; tries++) {
      const instance = this.instances[this.next++ % this.instances.length]!;
      if ((this.downUntil.get(instance) ?? 0) <= now) return instance;
    }
    return this.instances[this.next++ % this.instances.length]!;
  }

  async request(op: string, method: string, path: string, options: RequestOptions = {}): Promise<Outcome> {
    const attempts = options.to ? 1 : this.instances.length + 2;
    let outcome: Outcome | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const instance = options.to ?? this.pick();
      outcome = await this.once(op, instance, method, path, options);
      if (outcome.status !== 'refused') break;
      this.downUntil.set(instance, Date.now() + 1000);
      if (attempt >= this.instances.length - 1) await sleep(100);
    }
    this.outcomes.push(outcome!);
    return outcome!;
  }

  private async once(
    op: string,
    instance: Instance,
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<Outcome> {
    const started = performance.now();
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `${options.scheme ?? 'Bearer'} ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetch(instance.url + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {}
      const ms = performance.now() - started;
      return { op, instance: instance.name, status: response.status, ms, at: Date.now(), body };
    } catch (error) {
      const failure = failureOf(error);
      // A frozen instance (timeout) is skipped for a while, as a health-checking balancer would.
      if (failure !== 'refused')
        this.downUntil.set(instance, Date.now() + (failure === 'timeout' ? 3000 : 500));
      const ms = performance.now() - started;
      return { op, instance: instance.name, status: failure, ms, at: Date.now(), body: null };
    }
  }

  /** `op → status → count`, for the printed summary. */
  summary(): Record<string, Record<string, number>> {
    const table: Record<string, Record<string, number>> = {};
    for (const { op, status } of this.outcomes) {
      table[op] ??= {};
      table[op][String(status)] = (table[op][String(status)] ?? 0) + 1;
    }
    return table;
  }

  /** p50/p99 latency in ms of answered requests of `op` (all ops when omitted). */
  latency(op?: string): { p50: number; p99: number; n: number } {
    const ms = this.outcomes
      .filter((outcome) => typeof outcome.status === 'number' && (op === undefined || outcome.op === op))
      .map((outcome) => outcome.ms)
      .sort((a, b) => a - b);
    const at = (q: number) =>
      ms.length ? Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!) : 0;
    return { p50: at(0.5), p99: at(0.99), n: ms.length };
  }
}

// ---------------------------------------------------------------------------------------------------
// The mixed load

export interface Fixture {
  /** The admin's Account-Token. */
  admin: string;
  bases: string[];
}

/** What the service acknowledged during a load: each of these must be in the database afterwards. */
export interface Acknowledged {
  /** API-Tokens created (201): id → secret and base. */
  apiTokens: Map<string, { token: string; base: string }>;
  /** Base-Tokens issued (201): jti → JWT. */
  jtis: Map<string, string>;
  /** API-Tokens deleted (204). */
  deletedApiTokens: Set<string>;
  /** API-Tokens a deletion was sent for, answered or not (a timed-out one may have taken effect). */
  deletionsSent: Set<string>;
  /** Base-Tokens revoked (200). */
  revokedJtis: Set<string>;
}

export const newAcknowledged = (): Acknowledged => ({
  apiTokens: new Map(),
  jtis: new Map(),
  deletedApiTokens: new Set(),
  deletionsSent: new Set(),
  revokedJtis: new Set(),
});

/** Signs the admin in and creates `bases` bases, through the balancer (before any fault). */
export async function setUpFixture(lb: Balancer, bases = 2): Promise<Fixture> {
  const signIn = await lb.request('setup', 'POST', '/api/v1/account-tokens', {
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    headers: { [CLIENT_IP_HEADER]: randomAddress() },
  });
  if (signIn.status !== 201)
    throw new Error(`admin sign-in: ${signIn.status} ${JSON.stringify(signIn.body)}`);
  const admin: string = signIn.body.token;
  const uuids: string[] = [];
  for (let i = 0; i < bases; i++) {
    const base = await lb.request('setup', 'POST', '/api/v1/bases', {
      token: admin,
      body: { name: `cluster-${i}-${randomBytes(3).toString('hex')}` },
    });
    if (base.status !== 201) throw new Error(`base: ${base.status} ${JSON.stringify(base.body)}`);
    uuids.push(base.body.uuid);
  }
  return { admin, bases: uuids };
}

let tokenNames = 0;

/** Creates one API-Token on `base` through the balancer; records it when acknowledged. */
export async function createApiToken(lb: Balancer, fixture: Fixture, acked: Acknowledged, base: string) {
  const outcome = await lb.request('create', 'POST', `/api/v1/bases/${base}/api-tokens`, {
    token: fixture.admin,
    body: { name: `t${process.pid}-${++tokenNames}-${randomBytes(2).toString('hex')}`, permission: 'rw' },
  });
  if (outcome.status === 201) acked.apiTokens.set(outcome.body.id, { token: outcome.body.token, base });
  return outcome;
}

/** Exchanges an API-Token for a Base-Token; records its jti when acknowledged. */
export async function exchange(lb: Balancer, acked: Acknowledged, apiToken: string, to?: Instance) {
  const outcome = await lb.request('exchange', 'POST', '/api/v1/base-tokens', {
    token: apiToken,
    scheme: 'Token',
    to,
  });
  if (outcome.status === 201)
    acked.jtis.set(String(decodeJwt(outcome.body.base_token).jti), outcome.body.base_token);
  return outcome;
}

/** Statuses each operation may answer; anything else (above all a 500) is a failure of the run. */
export const ALLOWED: Record<string, Set<number | Failure>> = {
  // 503: the database is unavailable or busy (a fault is in progress). Network failures: the instance
  // the request went to was killed or frozen (a reset or a timeout is not retried, see Balancer).
  create: new Set([201, 503, 'reset', 'timeout']),
  exchange: new Set([201, 503, 'reset', 'timeout']),
  // An exchange sent while the same token's deletion was in flight, refused because the deletion won.
  'exchange-raced-delete': new Set([401]),
  delete: new Set([204, 503, 'reset', 'timeout']),
  revoke: new Set([200, 503, 'reset', 'timeout']),
  'failed-login': new Set([401, 503, 'reset', 'timeout']),
  feed: new Set([200, 304, 503, 'reset', 'timeout']),
};

/** Outcomes outside {@link ALLOWED} (ops without an entry are not judged here). */
export function unexpected(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((outcome) => ALLOWED[outcome.op] && !ALLOWED[outcome.op]!.has(outcome.status));
}

export interface LoadOptions {
  workers: number;
  durationMs: number;
  /** Weights of the operations; default ≈ §6: 80 % exchanges, 10 % revocations, 5 % failed logins, rest creations. */
  mix?: Partial<Record<'exchange' | 'create' | 'delete' | 'revoke' | 'failed-login', number>>;
  /** Pause between one worker's requests (ms); keeps the load modest on a shared machine. */
  thinkMs?: number;
}

export interface Load {
  done: Promise<void>;
  /** Ends the load early (workers finish their current request). */
  stop(): void;
}

/**
 * Runs `workers` loops for `durationMs`. Tokens are taken out of the exchange pool before their
 * deletion is sent, so an exchange is never refused for a reason the load itself made.
 */
export function runLoad(lb: Balancer, fixture: Fixture, acked: Acknowledged, options: LoadOptions): Load {
  const mix = { exchange: 80, create: 5, delete: 4, revoke: 6, 'failed-login': 5, ...options.mix };
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  const pool: string[] = [...acked.apiTokens.keys()].filter((id) => !acked.deletionsSent.has(id));
  const deadline = Date.now() + options.durationMs;
  let stopped = false;
  const choose = () => {
    let r = Math.random() * total;
    for (const [op, weight] of Object.entries(mix)) {
      r -= weight;
      if (r < 0) return op;
    }
    return 'exchange';
  };
  const randomOf = <T>(items: T[]): T | undefined => items[Math.floor(Math.random() * items.length)];
  const worker = async () => {
    while (!stopped && Date.now() < deadline) {
      const op = choose();
      if (op === 'create' || pool.length < 4) {
        const base = randomOf(fixture.bases)!;
        const outcome = await createApiToken(lb, fixture, acked, base);
        if (outcome.status === 201) pool.push(outcome.body.id);
      } else if (op === 'delete') {
        const id = pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!;
        acked.deletionsSent.add(id);
        const outcome = await lb.request('delete', 'DELETE', `/api/v1/api-tokens/${id}`, {
          token: fixture.admin,
        });
        if (outcome.status === 204) acked.deletedApiTokens.add(id);
      } else if (op === 'revoke' && acked.jtis.size > 0) {
        const [jti, jwt] = randomOf([...acked.jtis].slice(-50))!;
        const outcome = await lb.request('revoke', 'POST', '/api/v1/base-tokens/revoke', {
          body: { token: jwt },
        });
        if (outcome.status === 200) acked.revokedJtis.add(jti);
      } else if (op === 'failed-login') {
        await lb.request('failed-login', 'POST', '/api/v1/account-tokens', {
          headers: { [CLIENT_IP_HEADER]: randomAddress() },
          body: {
            email: `nobody-${randomBytes(4).toString('hex')}@cluster.test`,
            password: 'not the password at all',
          },
        });
      } else {
        const id = randomOf(pool)!;
        const outcome = await exchange(lb, acked, acked.apiTokens.get(id)!.token);
        if (
          outcome.status === 401 &&
          acked.deletionsSent.has(id) &&
          outcome.body?.error?.code === 'token_revoked'
        )
          outcome.op = 'exchange-raced-delete';
      }
      if (options.thinkMs) await sleep(options.thinkMs);
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, worker)).then(() => {});
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Feed pollers

/** A verifier-like reader of the poll feed: follows the cursor over whichever instance answers. */
export class FeedPoller {
  cursor = '0';
  /** `kind value aud` of every entry seen. */
  readonly seen = new Set<string>();
  /** Answers that broke the feed's promises (a cursor going back, a reset, a malformed page). */
  readonly violations: string[] = [];
  polls = 0;
  constructor(private readonly lb: Balancer) {}

  /** One request; true when the page reached the newest entry. */
  async poll(to?: Instance): Promise<boolean> {
    const outcome = await this.lb.request('feed', 'GET', `/api/v1/revocations?since=${this.cursor}`, { to });
    if (outcome.status !== 200) return false;
    this.polls++;
    const page = outcome.body as {
      revocations: { kind: string; value: string; aud?: string }[];
      cursor: string;
      complete: boolean;
      reset: boolean;
    };
    if (page.reset) this.violations.push(`reset at cursor ${this.cursor} (from ${outcome.instance})`);
    if (!/^\d+$/.test(page.cursor) || Number(page.cursor) < Number(this.cursor))
      this.violations.push(`cursor ${this.cursor} → ${page.cursor} (from ${outcome.instance})`);
    for (const entry of page.revocations) this.seen.add(feedKey(entry.kind, entry.value, entry.aud ?? null));
    this.cursor = page.cursor;
    return page.complete;
  }

  /** Reads until complete (bounded). */
  async catchUp(to?: Instance): Promise<void> {
    for (let i = 0; i < 100; i++) if (await this.poll(to)) return;
    throw new Error('feed poller: not complete after 100 pages');
  }

  /** Polls every `intervalMs` until stopped. */
  loop(intervalMs: number): { stop(): Promise<void> } {
    let stopped = false;
    const running = (async () => {
      while (!stopped) {
        await this.poll();
        await sleep(intervalMs);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await running;
      },
    };
  }
}

export const feedKey = (kind: string, value: string, aud: string | null) => `${kind} ${value} ${aud ?? ''}`;

// ---------------------------------------------------------------------------------------------------
// Reading the database directly

export interface DbReader {
  all<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  tables(): Promise<string[]>;
  close(): Promise<void>;
}

/** int8 (seq, epochs) as Number, refusing what would lose precision: the chain hashes numbers. */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20)
      return (text: string) => {
        const value = Number(text);
        if (!Number.isSafeInteger(value)) throw new Error(`int8 ${text} is not a safe integer`);
        return value;
      };
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** A read-only view of the cluster's database (`pg` for PostgreSQL, better-sqlite3 for a SQLite file). */
export async function openReader(backend: Backend): Promise<DbReader> {
  if (backend.kind === 'sqlite') {
    const db = new Database(backend.file, { readonly: true, fileMustExist: true });
    return {
      all: async <T>(sql: string) => db.prepare(sql).all() as T[],
      tables: async () =>
        (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
          (row) => row.name,
        ),
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: backend.url, types: pgTypes });
  // A server that goes away (a crash scenario) fails the next query, not the test process.
  client.on('error', () => {});
  await client.connect();
  return {
    all: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    tables: async () =>
      (
        await client.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
        )
      ).rows.map((row) => row.name),
    close: () => client.end(),
  };
}

/** Fails when the processes run on something else than PostgreSQL (a build ignoring TOKENLADDER_DATABASE_URL). */
export async function assertOnPostgres(db: DbReader): Promise<void> {
  const tables = await db.tables();
  if (!tables.includes('audit_events') || !tables.includes('signing_keys'))
    throw new Error(
      `the instances did not create their schema in PostgreSQL (tables: ${tables.join(', ') || 'none'})`,
    );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface ChainCheck {
  report: ChainReport;
  rows: number;
  /** Problems beside the chain itself: row count, the PostgreSQL `audit_head`. */
  problems: string[];
}

/**
 * The audit chain through the project's own verifier (src/audit/chain.ts `verifyAuditRows`): every
 * hash, every link, `seq` contiguous; every row checked; on PostgreSQL, `audit_head` equals the last row.
 */
export async function checkAuditChain(db: DbReader): Promise<ChainCheck> {
  const rows = await db.all<AuditRow>(
    'SELECT seq, at, action, outcome, actor_user_id, actor_token_id, subject_user_id, base_id, target_id, client_ip, details, prev_hash, hash FROM audit_events ORDER BY seq',
  );
  const report = await verifyAuditRows(rows, sha256);
  const problems: string[] = [];
  if (report.ok && report.checked !== rows.length)
    problems.push(`checked ${report.checked} of ${rows.length} rows`);
  if ((await db.tables()).includes('audit_head')) {
    const [head] = await db.all<Record<string, unknown>>('SELECT * FROM audit_head');
    const last = rows[rows.length - 1];
    if (last && head && 'seq' in head && Number(head.seq) !== last.seq)
      problems.push(`audit_head.seq ${String(head.seq)} but the last row is ${last.seq}`);
    if (last && head && 'hash' in head && head.hash !== last.hash)
      problems.push(`audit_head.hash is not the last row's hash (seq ${last.seq})`);
  }
  return { report, rows: rows.length, problems };
}

/** The ids among `ids` that have no successful audit record of `action` (target_id). */
export async function missingAudit(
  db: DbReader,
  action: AuditAction,
  ids: Iterable<string>,
): Promise<string[]> {
  const rows = await db.all<{ target_id: string | null }>(
    `SELECT target_id FROM audit_events WHERE action = '${action}' AND outcome = 'success'`,
  );
  const recorded = new Set(rows.map((row) => row.target_id));
  return [...ids].filter((id) => !recorded.has(id));
}

/** The ids among `ids` not found in `table.column` (optionally among rows matching `where`). */
export async function missingRows(
  db: DbReader,
  table: string,
  column: string,
  ids: Iterable<string>,
  where = 'TRUE',
): Promise<string[]> {
  if (!/^[a-z_]+$/.test(table) || !/^[a-z_]+$/.test(column)) throw new Error('plain names only');
  const rows = await db.all<{ id: string }>(`SELECT ${column} AS id FROM ${table} WHERE ${where}`);
  const present = new Set(rows.map((row) => row.id));
  return [...ids].filter((id) => !present.has(id));
}

/**
 * Live revocation feed entries in the table that a poller never saw: the feed skipped them. A poller
 * that has caught up must have seen every live entry (each source's latest row, every jti).
 */
export async function unseenFeedEntries(db: DbReader, poller: FeedPoller): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const rows = await db.all<{ seq: number; kind: string; value: string; base_id: string | null }>(
    `SELECT seq, kind, value, base_id FROM revocations WHERE expires_at > ${now} ORDER BY seq`,
  );
  return rows
    .filter(
      (row) =>
        !poller.seen.has(
          feedKey(row.kind, row.value, row.base_id === null ? null : baseAudience(row.base_id)),
        ),
    )
    .map((row) => `seq ${row.seq}: ${row.kind} ${row.value}`);
}

/**
 * Every check of an acknowledged write: the rows exist and so do their audit records. Returns one line
 * per problem (empty: all held).
 */
export async function acknowledgedProblems(db: DbReader, acked: Acknowledged): Promise<string[]> {
  const problems: string[] = [];
  const report = (what: string, missing: string[]) => {
    if (missing.length > 0)
      problems.push(`${what}: ${missing.length} missing, e.g. ${missing.slice(0, 3).join(', ')}`);
  };
  report(
    'api_tokens rows of acknowledged creations',
    await missingRows(db, 'api_tokens', 'id', acked.apiTokens.keys()),
  );
  report('api_token.create records', await missingAudit(db, 'api_token.create', acked.apiTokens.keys()));
  report(
    'base_token.issue records of acknowledged exchanges',
    await missingAudit(db, 'base_token.issue', acked.jtis.keys()),
  );
  report(
    'revoked_at of acknowledged deletions',
    await missingRows(db, 'api_tokens', 'id', acked.deletedApiTokens, 'revoked_at IS NOT NULL'),
  );
  report('api_token.delete records', await missingAudit(db, 'api_token.delete', acked.deletedApiTokens));
  report(
    'client feed entries of acknowledged deletions',
    await missingRows(db, 'revocations', 'value', acked.deletedApiTokens, `kind = 'client'`),
  );
  report('feed entries of acknowledged Base-Token revocations', await unrevoked(db, acked));
  // A Base-Token revoked when its source was already revoked writes nothing (it is refused already):
  // the record is required where this revocation wrote the token's own entry.
  const ownEntries = await db.all<{ value: string }>(`SELECT value FROM revocations WHERE kind = 'jti'`);
  const own = new Set(ownEntries.map((row) => row.value));
  report(
    'base_token.revoke records of written jti entries',
    await missingAudit(
      db,
      'base_token.revoke',
      [...acked.revokedJtis].filter((jti) => own.has(jti)),
    ),
  );
  return problems;
}

/**
 * The acknowledged Base-Token revocations the feed does not carry: neither the token's own `jti` entry
 * nor an entry of its source (`client`) that refuses it (a later generation, or for a token without
 * `gen`, revoked at or after its `iat`).
 */
export async function unrevoked(db: DbReader, acked: Acknowledged): Promise<string[]> {
  const rows = await db.all<{
    seq: number;
    kind: string;
    value: string;
    revoked_at: number;
    gen: number | null;
  }>(`SELECT seq, kind, value, revoked_at, gen FROM revocations WHERE kind IN ('jti', 'client')`);
  const jtis = new Set(rows.filter((row) => row.kind === 'jti').map((row) => row.value));
  const clients = new Map<string, { gen: number; revokedAt: number }>();
  for (const row of rows)
    if (row.kind === 'client') {
      const known = clients.get(row.value);
      clients.set(row.value, {
        gen: Math.max(known?.gen ?? 0, Number(row.gen ?? row.seq)),
        revokedAt: Math.max(known?.revokedAt ?? 0, Number(row.revoked_at)),
      });
    }
  return [...acked.revokedJtis].filter((jti) => {
    if (jtis.has(jti)) return false;
    const claims = decodeJwt(acked.jtis.get(jti)!);
    const source = clients.get(String(claims.client_id));
    if (!source) return true;
    return typeof claims.gen === 'number' ? !(claims.gen < source.gen) : !(claims.iat! <= source.revokedAt);
  });
}

/** Migration names recorded in the database: `d1_migrations` on both stores unless the store names its own. */
export async function appliedMigrations(db: DbReader): Promise<string[]> {
  const tables = await db.tables();
  const table = tables.includes('d1_migrations')
    ? 'd1_migrations'
    : tables.find((name) => /migration/.test(name));
  if (!table) throw new Error(`no migrations table among ${tables.join(', ')}`);
  return (await db.all<{ name: string }>(`SELECT name FROM ${table}`)).map((row) => row.name);
}

/** The migration files a backend applies. */
export function migrationFiles(backend: Backend): string[] {
  const dir = backend.kind === 'postgres' ? join(ROOT, 'migrations', 'postgres') : join(ROOT, 'migrations');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort();
}

/** Migration names each instance said it applied at start (`"applied migrations"` log lines). */
export function migrationsLogged(instance: Instance): string[] {
  const names: string[] = [];
  for (const line of instance.allOutput().split('\n')) {
    if (!line.includes('"applied migrations"')) continue;
    try {
      names.push(...((JSON.parse(line).migrations as string[] | undefined) ?? []));
    } catch {}
  }
  return names;
}

// ---------------------------------------------------------------------------------------------------
// Keys

/** The kids an instance publishes right now. */
export async function jwksKids(instance: Instance): Promise<string[]> {
  const response = await fetch(`${instance.url}/.well-known/jwks.json`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) throw new Error(`${instance.name} JWKS: ${response.status}`);
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort();
}

/** The `kid` a Base-Token was signed with. */
export const kidOf = (jwt: string) => String(decodeProtectedHeader(jwt).kid);

/** Waits until `condition` holds (polling every `everyMs`); resolves with the ms it took, rejects after `timeoutMs`. */
export async function timeUntil(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await condition().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export { sleep };
