import type { Kysely } from 'kysely';
import { createPasswordHasher, type ScryptFunction } from './accounts/passwords';
import { systemClock, type Clock } from './clock';
import type { AppConfig } from './config';
import { consoleLogger, type Deps, type Logger } from './deps';
import { createKeyRing, ensureSigningKey } from './keys/signing-keys';
import { sha256Hex } from './lib/bytes';
import type { Atomic } from './store/atomic';
import type { Database } from './store/schema';

export interface CreateDepsOptions {
  db: Kysely<Database>;
  atomic: Atomic;
  kek: CryptoKey;
  config: AppConfig;
  /** The runtime's scrypt (node:crypto, also on Workers under nodejs_compat). */
  scrypt: ScryptFunction;
  /** Password hashes computed at once in this process or isolate. */
  maxConcurrentHashes?: number;
  clock?: Clock;
  log?: Logger;
  /** A faster SHA-256 hex than Web Crypto's, where the runtime has one. */
  hashToken?: Deps['hashToken'];
}

/**
 * The runtime-neutral part of wiring: the first signing key when the store has none (race-safe), the
 * key ring and the password hasher. Entries (Node, Workers, tests) bring the store, the KEK and scrypt.
 */
export async function createDeps(options: CreateDepsOptions): Promise<Deps> {
  const { db, atomic, kek, config, clock = systemClock, log = consoleLogger } = options;
  await ensureSigningKey(db, kek, clock);
  return {
    db,
    atomic,
    clock,
    config,
    log,
    hashToken: options.hashToken ?? sha256Hex,
    keys: createKeyRing({ db, atomic, kek, clock, retiredKeyGraceSeconds: config.baseTokenTtlSeconds + 60 }),
    passwords: createPasswordHasher({ scrypt: options.scrypt, params: config.scrypt, maxConcurrent: options.maxConcurrentHashes }),
  };
}
