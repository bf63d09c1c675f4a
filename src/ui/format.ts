/**
 * "2026-11-01 12:00 UTC" from an ISO time: unambiguous for every reader, no client-side locale guessing.
 * Tables leave out the " UTC" (a note under them says so) or show the day only.
 */
export function formatTime(iso: string | null, style: 'full' | 'minute' | 'date' = 'full'): string {
  if (iso === null) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString().slice(0, 16).replace('T', ' ');
  return style === 'date' ? text.slice(0, 10) : style === 'minute' ? text : `${text} UTC`;
}

/** Only fixed messages are shown from a query parameter, never its text. */
export const NOTICES = {
  'signed-out': 'You have signed out.',
  'session-ended': 'Your session has ended. Please sign in again.',
  'base-created': 'Base created.',
  'token-renamed': 'API-Token renamed.',
  'token-enabled': 'API-Token activated.',
  'token-disabled': 'API-Token deactivated: it is refused until you activate it again.',
  'tokens-deleted': 'Deleted.',
  'account-token-revoked': 'Account-Token revoked.',
} as const;

export type NoticeKey = keyof typeof NOTICES;

export function noticeFrom(value: string | undefined): string | undefined {
  return value !== undefined && Object.hasOwn(NOTICES, value) ? NOTICES[value as NoticeKey] : undefined;
}

export const PERMISSION_LABEL: Record<string, string> = { r: 'Read-only', rw: 'Read & write', admin: 'Admin', custom: 'Custom scopes' };

export const ROLE_LABEL: Record<string, string> = { user: 'User', team_admin: 'Team admin', system_admin: 'System admin' };
