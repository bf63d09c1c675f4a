/**
 * The earliest of several ends (epoch seconds); null ("never") ones are ignored, and null if all are.
 * A Base-Token ends at the earliest end of everything it came from (src/tokens/base-tokens.ts).
 */
export function earliest(...ends: readonly (number | null | undefined)[]): number | null {
  const known = ends.filter((end): end is number => typeof end === 'number');
  return known.length === 0 ? null : Math.min(...known);
}

/** How a new or changed token asks to expire: at a time (epoch seconds, null for never) or in days. */
export interface ExpiryRequest {
  expiresAt?: number | null;
  expiresInDays?: number;
}

/**
 * When a token expires, in epoch seconds: `expiresInDays` from `now`, else `expiresAt`. Null is
 * "never"; undefined means the request named no expiry (a change that leaves it as it is).
 */
export function expiryOf(request: ExpiryRequest, now: number): number | null | undefined {
  if (request.expiresInDays !== undefined) return now + request.expiresInDays * 86400;
  return request.expiresAt;
}
