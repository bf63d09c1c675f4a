import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { nodeScrypt } from '../../accounts/scrypt';
import { systemClock, type Clock } from '../../clock';
import type { AppConfig } from '../../config';
import { createDeps } from '../../create-deps';
import { consoleLogger, type Deps, type Logger } from '../../deps';
import { createSqliteStore } from '../../store/sqlite';

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
