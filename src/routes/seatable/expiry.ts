import { badRequest } from '../../errors';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** SeaTable 6's `exp` query (`30m`, `5h`, `3d`): seconds, at most the configured Base-Token lifetime. */
export function parseExpiry(exp: string | undefined, maxSeconds: number): number | undefined {
  if (exp === undefined) return undefined;
  const match = /^([1-9]\d{0,6})([smhd])$/.exec(exp);
  if (!match) throw badRequest('exp invalid: use a number and a unit, like 5h or 3d');
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (seconds < 60 || seconds > maxSeconds) throw badRequest(`exp invalid: from 60s to ${maxSeconds}s`);
  return seconds;
}
