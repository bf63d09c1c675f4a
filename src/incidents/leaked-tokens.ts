import { anonymousActor } from '../audit/events';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { revokeHeldToken } from '../revocations/held-tokens';
import { addressKey } from '../throttle/address-key';
import { hitCounter } from '../throttle/counters';

/** Reports per client address and window: a scanner's batch fits, a brute-force oracle does not. */
export const LEAK_REPORT_LIMIT = { limit: 30, windowSeconds: 3600 };

/**
 * A leak report (GitHub's secret-scanning partner flow): every valid token in it is revoked at once,
 * with its Base-Tokens published to the revocation feed and a record in its owner's audit log.
 * Strings that fail our checksum or JWT shape are dropped without a query. The caller learns only how
 * many strings were received, never which were tokens; reporting the same token again changes nothing.
 */
export async function reportLeakedTokens(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  tokens: readonly string[],
  clientIp: string | null,
): Promise<number> {
  const limited = await hitCounter(
    deps,
    `leak:ip:${addressKey(clientIp, deps.config.ipv6PrefixLength)}`,
    LEAK_REPORT_LIMIT,
  );
  if (!limited.allowed)
    throw new AppError(
      'rate_limited',
      'too many leak reports from this address; retry later',
      limited.retryAfterSeconds,
    );
  const actor = anonymousActor(clientIp);
  for (const token of new Set(tokens)) await revokeHeldToken(deps, token, 'leak_reported', actor);
  return tokens.length;
}
