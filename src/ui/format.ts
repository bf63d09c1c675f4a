import { claimsOf } from '../tokens/grants';
import {
  CATEGORIES,
  RECORD_OPERATIONS,
  scopesOfPermission,
  type Category,
  type RecordOperation,
  type Scopes,
} from '../verify/scopes';

/**
 * "2026-11-01 12:00 UTC" from epoch seconds: unambiguous for every reader, no client-side locale guessing.
 * Tables leave out the " UTC" (a note under them says so) or show the day only.
 */
export function formatTime(seconds: number | null, style: 'full' | 'minute' | 'date' = 'full'): string {
  if (seconds === null) return '';
  const text = new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
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

export const PERMISSION_LABEL: Record<string, string> = {
  r: 'Read-only',
  rw: 'Read & write',
  admin: 'Admin',
  custom: 'Custom scopes',
};

export const ROLE_LABEL: Record<string, string> = {
  user: 'User',
  team_admin: 'Team admin',
  system_admin: 'System admin',
};

/** The categories as the form and the token page name them. */
export const CATEGORY_LABEL: Record<Category, string> = {
  records: 'Records',
  comments: 'Comments',
  tables: 'Tables',
  fields: 'Fields',
  views: 'Views',
  webhooks: 'Webhooks',
  base: 'Base settings',
  users: 'Users',
};

export const OPERATION_LABEL: Record<RecordOperation, string> = {
  create: 'Create',
  read: 'Read',
  update: 'Update',
  delete: 'Delete',
};

/** What a token's badge says: its coarse permission, or `custom` when its scopes are not exactly one. */
export function grantKind(token: { permission: string; scopes: Scopes | null }): string {
  if (token.scopes === null) return token.permission;
  const claims = claimsOf(token.scopes);
  return claims.scp ? 'custom' : claims.permission;
}

/** A token's grant, one line per category, for people: "Records: Read (all tables)", "Users: None". */
export function scopeLines(token: {
  permission: string;
  scopes: Scopes | null;
}): { category: string; text: string; granted: boolean }[] {
  const scopes =
    token.scopes ??
    scopesOfPermission(token.permission === 'rw' || token.permission === 'admin' ? token.permission : 'r');
  return CATEGORIES.map((category) => {
    const text =
      category === 'records'
        ? recordsText(scopes)
        : scopes.c[category] === 'rw'
          ? 'Read & write'
          : scopes.c[category] === 'r'
            ? 'Read'
            : 'None';
    return { category: CATEGORY_LABEL[category], text, granted: text !== 'None' };
  });
}

function recordsText(scopes: Scopes): string {
  const level = scopes.c.records;
  const tables = scopes.t ?? {
    create: level === 'rw' ? ['*'] : [],
    read: level ? ['*'] : [],
    update: level === 'rw' ? ['*'] : [],
    delete: level === 'rw' ? ['*'] : [],
  };
  // Operations with the same tables together: "Create, Read, Update, Delete (all tables)", "Update (tbl1, tbl2)".
  const groups = new Map<string, RecordOperation[]>();
  for (const op of RECORD_OPERATIONS) {
    const list = tables[op];
    if (list.length === 0) continue;
    const key = list.includes('*') ? 'all tables' : [...list].join(', ');
    groups.set(key, [...(groups.get(key) ?? []), op]);
  }
  if (groups.size === 0) return 'None';
  return [...groups]
    .map(([where, ops]) => `${ops.map((op) => OPERATION_LABEL[op]).join(', ')} (${where})`)
    .join('; ');
}
