import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { nodeScrypt } from '../../accounts/scrypt';
import { systemClock, type Clock } from '../../clock';
import type { AppConfig } from '../../config';
import { createDeps } from '../../create-deps';
import { consoleLogger, type Deps, type Logger } from '../../deps';
import { createPrometheusMetrics } from '../../metrics/prometheus';
import type { FeedWakeupSource } from '../../revocations/wakeups';
import type { Atomic, AtomicAfter } from '../../store/atomic';
import type { Database as Schema } from '../../store/schema';
import { createSqliteStore } from '../../store/sqlite';
import type { Kysely } from 'kysely';
import { nodeDocsScript } from './docs-script';

export interface NodeDepsOptions {
  /** An open, migrated SQLite database; or `store`. */
  raw?: Database.Database;
  /** An open, migrated store of any kind (PostgreSQL's brings `atomicAfter`). */
  store?: { db: Kysely<Schema>; atomic: Atomic; atomicAfter?: AtomicAfter };
  /** What wakes the revocation streams on other instances' writes (PostgreSQL: the LISTEN connection). */
  feedWakeupSource?: FeedWakeupSource;
  kek: CryptoKey;
  config: AppConfig;
  clock?: Clock;
  log?: Logger;
  /** With metrics on: Node's process metrics too (the server's own process, not a test's or the CLI's). */
  processMetrics?: boolean;
}

/** Wires the app's dependencies over an open, migrated store (SQLite or PostgreSQL). Shared by the server, the CLI and tests. */
export async function createNodeDeps({
  raw,
  store,
  feedWakeupSource,
  kek,
  config,
  clock = systemClock,
  log = consoleLogger,
  processMetrics = false,
}: NodeDepsOptions): Promise<Deps> {
  const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
  const opened: NodeDepsOptions['store'] = store ?? (raw ? createSqliteStore(raw) : undefined);
  if (!opened) throw new Error('createNodeDeps: pass a SQLite database (raw) or a store');
  const deps = await createDeps({
    db: opened.db,
    atomic: opened.atomic,
    ...(opened.atomicAfter && { atomicAfter: opened.atomicAfter }),
    ...(feedWakeupSource && { feedWakeupSource }),
    kek,
    config,
    clock,
    log,
    scrypt: nodeScrypt,
    hashToken,
  });
  const docsScript = nodeDocsScript();
  if (!config.metrics) return { ...deps, docsScript };
  return { ...deps, docsScript, metrics: createPrometheusMetrics(deps, { processMetrics }) };
}
