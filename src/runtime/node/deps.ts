import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { nodeScrypt } from '../../accounts/scrypt';
import { systemClock, type Clock } from '../../clock';
import type { AppConfig } from '../../config';
import { createDeps } from '../../create-deps';
import { consoleLogger, type Deps, type Logger } from '../../deps';
import { createPrometheusMetrics } from '../../metrics/prometheus';
import { createSqliteStore } from '../../store/sqlite';
import { nodeDocsScript } from './docs-script';

export interface NodeDepsOptions {
  raw: Database.Database;
  kek: CryptoKey;
  config: AppConfig;
  clock?: Clock;
  log?: Logger;
  /** With metrics on: Node's process metrics too (the server's own process, not a test's or the CLI's). */
  processMetrics?: boolean;
}

/** Wires the app's dependencies over an open, migrated SQLite database. Shared by the server, the CLI and tests. */
export async function createNodeDeps({
  raw,
  kek,
  config,
  clock = systemClock,
  log = consoleLogger,
  processMetrics = false,
}: NodeDepsOptions): Promise<Deps> {
  const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
  const deps = await createDeps({
    ...createSqliteStore(raw),
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
