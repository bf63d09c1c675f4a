/** Time as a dependency so tests can freeze and move it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Epoch seconds, the unit every stored time uses. */
export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);

/** ISO-8601 UTC string for an epoch-seconds value (API responses), or null. */
export function isoTime(seconds: number): string;
export function isoTime(seconds: number | null): string | null;
export function isoTime(seconds: number | null): string | null {
  return seconds === null ? null : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * How far the clocks of instances sharing one database may disagree (seconds): a token another
 * instance signed a little "in the future" by this one's clock is still one of ours (its temporary
 * API-Tokens exchange, its Base-Tokens can be revoked). Same as the bundled verifier's default.
 */
export const PEER_CLOCK_TOLERANCE_SECONDS = 30;
