import type { Kysely } from 'kysely';
import { createAuditLog } from './audit/log';
import { createPasswordHasher, type ScryptFunction } from './accounts/passwords';
import { systemClock, type Clock } from './clock';
import type { AppConfig } from './config';
import { consoleLogger, type Deps, type Logger } from './deps';
import { createKeyRing, ensureSigningKey } from './keys/signing-keys';
import { sha256Hex } from './lib/bytes';
import { redactingLogger } from './lib/redact';
import { latestRevocation } from './revocations/feed';
import {
  createFeedWakeups,
  wakingAtomic,
  wakingAtomicAfter,
  type FeedWakeupSource,
} from './revocations/wakeups';
import type { Atomic, AtomicAfter } from './store/atomic';
import type { Database } from './store/schema';

export interface CreateDepsOptions {
  db: Kysely<Database>;
  atomic: Atomic;
  /** PostgreSQL's locked-read transaction: the audit log then serialises appends across instances. */
  atomicAfter?: AtomicAfter;
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
  /**
   * What wakes the revocation streams on writes made elsewhere (PostgreSQL: a LISTEN connection);
   * started with the first open stream, stopped after the last. Writes made through this app wake
   * them anyway, and a one-second check of the feed's newest cursor catches anything missed.
   */
  feedWakeupSource?: FeedWakeupSource;
}

/**
 * The runtime-neutral part of wiring: the first signing key when the store has none (race-safe), the
 * key ring and the password hasher. Entries (Node, Workers, tests) bring the store, the KEK and scrypt.
 */
export async function createDeps(options: CreateDepsOptions): Promise<Deps> {
  const { db, kek, config, clock = systemClock } = options;
  // Every line, from every runtime, loses token-shaped strings and secret-named fields on the way out.
  const log = redactingLogger(options.log ?? consoleLogger);
  const feedWakeups = createFeedWakeups({
    latest: () => latestRevocation({ db }),
    source: options.feedWakeupSource,
    log,
  });
  // Every write that adds feed entries wakes this app's streams once it has committed.
  const atomic = wakingAtomic(options.atomic, feedWakeups);
  const atomicAfter = options.atomicAfter && wakingAtomicAfter(options.atomicAfter, feedWakeups);
  await ensureSigningKey(db, kek, clock, config.signingAlg);
  const hashToken = options.hashToken ?? sha256Hex;
  const audit = createAuditLog({
    db,
    atomic,
    clock,
    sha256: hashToken,
    retentionSeconds: config.auditRetentionSeconds,
    log,
    atomicAfter,
  });
  return {
    db,
    atomic,
    audit,
    clock,
    config,
    log,
    hashToken,
    feedWakeups,
    keys: createKeyRing({
      db,
      atomic,
      audit,
      kek,
      clock,
      retiredKeyGraceSeconds: config.baseTokenTtlSeconds + 60,
      signingAlg: config.signingAlg,
    }),
    passwords: createPasswordHasher({
      scrypt: options.scrypt,
      params: config.scrypt,
      maxConcurrent: options.maxConcurrentHashes,
    }),
  };
}
