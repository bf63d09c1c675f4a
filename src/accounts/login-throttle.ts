import type { Compilable } from 'kysely';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { StatementResult } from '../store/atomic';
import {
  counterStateOf,
  hitCounterStatement,
  pruneCounters,
  refundCounterStatement,
  resetCounterStatement,
  type CounterLimit,
} from '../throttle/counters';
import type { LoginThrottleConfig } from '../config';
import { addressKey as addressKeyOf } from '../throttle/address-key';
import { normalizeEmail } from './email';

const PREFIX = 'login:';
const PRUNE_EVERY_SECONDS = 3600;
/** Per database handle: when this process or isolate last pruned (cheap: one DELETE an hour at most). */
const lastPrune = new WeakMap<object, number>();

/** The same answer whichever counter tripped and whether the account exists. */
const tooManyAttempts = (retryAfterSeconds: number) =>
  new AppError('rate_limited', 'too many sign-in attempts; try again later', retryAfterSeconds);

export interface LoginAttempt {
  /**
   * Statements to run with the successful action's own write: the account's counter is reset and
   * the address gets its attempt back (only failures count against it).
   */
  succeeded(): Compilable[];
  /** Statements that give both attempts back, when the password could not be checked at all (503). */
  notCounted(): Compilable[];
}

/**
 * Counts a password attempt against the account (SHA-256 of the normalised email, the same for
 * unknown emails so nothing is revealed) and the client address, before any password is hashed;
 * over either limit → 429 `rate_limited` with `Retry-After`, no hash computed. Counting before the
 * verification (and giving the attempt back on success) keeps the limit exact under concurrency:
 * parallel guesses cannot all pass a check made before any of them was counted.
 */
export async function beginLoginAttempt(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'config' | 'log' | 'hashToken'>,
  input: { email: string; clientIp: string | null },
): Promise<LoginAttempt> {
  const config = deps.config.loginThrottle;
  const now = epochSeconds(deps.clock);
  await maybePrune(deps, config, now);
  const accountKey = `${PREFIX}account:${await deps.hashToken(normalizeEmail(input.email))}`;
  // Without a known address (no socket, trusted header missing) all such requests share one counter: fail closed.
  const addressKey = `${PREFIX}address:${addressKeyOf(input.clientIp, deps.config.ipv6PrefixLength)}`;
  const accountLimit: CounterLimit = { limit: config.accountLimit, windowSeconds: config.windowSeconds };
  const addressLimit: CounterLimit = { limit: config.addressLimit, windowSeconds: config.windowSeconds };
  const [accountHit, addressHit] = await deps.atomic([
    hitCounterStatement(deps.db, accountKey, accountLimit, now),
    hitCounterStatement(deps.db, addressKey, addressLimit, now),
  ]);
  const account = counterStateOf(returnedRow(accountHit), accountLimit, now);
  const address = counterStateOf(returnedRow(addressHit), addressLimit, now);
  if (!account.allowed || !address.allowed)
    throw tooManyAttempts(Math.max(account.retryAfterSeconds, address.retryAfterSeconds));
  return {
    succeeded: () => [
      resetCounterStatement(deps.db, accountKey),
      refundCounterStatement(deps.db, addressKey, address.windowStart!),
    ],
    notCounted: () => [
      refundCounterStatement(deps.db, accountKey, account.windowStart!),
      refundCounterStatement(deps.db, addressKey, address.windowStart!),
    ],
  };
}

function returnedRow(result: StatementResult | undefined): { hits: number; window_start: number } {
  const row = result?.rows[0] as { hits: number; window_start: number } | undefined;
  if (!row) throw new Error('throttle counter upsert returned no row');
  return row;
}

async function maybePrune(
  deps: Pick<Deps, 'db' | 'clock' | 'log'>,
  config: LoginThrottleConfig,
  now: number,
): Promise<void> {
  const last = lastPrune.get(deps.db);
  if (last !== undefined && now - last < PRUNE_EVERY_SECONDS && now >= last) return;
  lastPrune.set(deps.db, now);
  try {
    await pruneCounters(deps, PREFIX, config.windowSeconds);
  } catch (error) {
    // Housekeeping: a failure here must not fail a sign-in.
    deps.log.warn('could not prune login throttle counters', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
