import type { Kysely } from 'kysely';
import type { PasswordHasher } from './accounts/passwords';
import type { AuditLog } from './audit/log';
import type { Clock } from './clock';
import type { AppConfig } from './config';
import type { KeyRing } from './keys/signing-keys';
import type { Logger } from './lib/logger';
import type { FeedWakeups } from './revocations/wakeups';
import type { AppMetrics } from './metrics/metrics';
import type { Atomic } from './store/atomic';
import type { Database } from './store/schema';

// The logger lives in a leaf module (lib/logger.ts) so that domain modules can use it without a cycle
// through this file; re-exported for the entries.
export { consoleLogger, type Logger } from './lib/logger';

/** Everything the app and the domain modules use, made by the runtime entry (Node, Workers, tests). */
export interface Deps {
  db: Kysely<Database>;
  atomic: Atomic;
  /** Every recorded action goes through it, atomically with the action's own writes. */
  audit: AuditLog;
  keys: KeyRing;
  passwords: PasswordHasher;
  clock: Clock;
  config: AppConfig;
  log: Logger;
  /**
   * SHA-256 hex of an opaque token, for the lookup on every authenticated request. Node injects its
   * synchronous native hash (no thread-pool hop); elsewhere Web Crypto. Both give the same digest.
   */
  hashToken: (token: string) => string | Promise<string>;
  /** Wakes the open revocation streams when the feed may have grown (src/revocations/wakeups.ts). */
  feedWakeups: FeedWakeups;
  /** Request and token metrics for GET /metrics (Node, when config.metrics is on); absent: no /metrics. */
  metrics?: AppMetrics;
  /**
   * Scalar's standalone script for /docs, from the installed @scalar/api-reference package (Node: the
   * file; Workers: the assets binding); absent or null: /docs/scalar.js answers 404.
   */
  docsScript?: () => Promise<ArrayBuffer | ReadableStream | null>;
}
