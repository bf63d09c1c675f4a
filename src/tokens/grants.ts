import { z } from 'zod';
import type { BasePermission, ApiTokenPermission } from '../store/schema';
import {
  CATEGORIES,
  coarsePermission,
  RECORD_OPERATIONS,
  intersectScopes,
  normalizeScopes,
  parseScopes,
  scopesOfPermission,
  type Category,
  type Level,
  type RecordOperation,
  type Scopes,
  type TableList,
} from '../verify/scopes';

export { intersectScopes, isSubsetOf, scopesOfPermission, type Scopes } from '../verify/scopes';

const level = z.enum(['r', 'rw']);
const tableList = z.union([
  z.literal('*'),
  z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'table ids are 1-64 letters, digits, _ or -')).max(100),
]);

/**
 * Fine-grained grants as the API takes them: each category `"r"` or `"rw"` (absent: denied); `records`
 * may instead list tables per operation (`"*"` for all), as Baserow does:
 * `{"records": {"read": "*", "create": ["tbl1"]}, "comments": "r"}`.
 */
export const scopesInput = z
  .strictObject({
    records: z.union([
      level,
      z.strictObject({ create: tableList, read: tableList, update: tableList, delete: tableList }).partial(),
    ]),
    comments: level,
    tables: level,
    fields: level,
    views: level,
    webhooks: level,
    base: level,
    users: level,
  })
  .partial()
  .refine((scopes) => Object.keys(scopes).length > 0, 'grant at least one category');

export type ScopesInput = z.infer<typeof scopesInput>;

/** API input → canonical scopes. */
export function scopesFromInput(input: ScopesInput): Scopes {
  const c: Partial<Record<Category, Level>> = {};
  let t: Record<RecordOperation, TableList> | undefined;
  for (const category of CATEGORIES) {
    const value = input[category];
    if (typeof value === 'string') c[category] = value;
  }
  if (typeof input.records === 'object') {
    const records = input.records;
    t = Object.fromEntries(
      RECORD_OPERATIONS.map((op) => [op, records[op] === '*' ? ['*'] : (records[op] ?? [])]),
    ) as unknown as Record<RecordOperation, TableList>;
  }
  return normalizeScopes({ v: 1, c, ...(t && { t }) });
}

/** What a token grants before any intersection: its stored scopes, or its shorthand permission. */
export function tokenScopes(token: { permission: ApiTokenPermission; grants: string | null }): Scopes {
  if (token.grants === null) return scopesOfPermission(token.permission);
  const parsed = parseScopes(JSON.parse(token.grants));
  // Stored by us after validation; unreadable means corrupt, which must grant nothing.
  return parsed ? normalizeScopes(parsed) : { v: 1, c: {} };
}

/** The coarse summary stored beside fine-grained scopes: `rw` if anything is writable. */
export function summaryPermission(scopes: Scopes): ApiTokenPermission {
  const t = scopes.t;
  const writes =
    Object.values(scopes.c).includes('rw') ||
    (t !== undefined && t.create.length + t.update.length + t.delete.length > 0);
  return writes ? 'rw' : 'r';
}

/** The most a member holds on a base: their role, as scopes. */
export const ceilingOf = (membership: BasePermission): Scopes => scopesOfPermission(membership);

/**
 * How a Base-Token states its grant: the coarse `permission` alone when the scopes are exactly one
 * (r, rw, admin); otherwise the scopes in `scp` with the largest coarse permission they contain.
 */
/** Each coarse permission's canonical scopes, computed once (immutable): the exchange's common case. */
export const COARSE_SCOPES: Readonly<Record<BasePermission, Scopes>> = Object.freeze({
  r: normalizeScopes(scopesOfPermission('r')),
  rw: normalizeScopes(scopesOfPermission('rw')),
  admin: normalizeScopes(scopesOfPermission('admin')),
});
const COARSE_CANONICAL = (['admin', 'rw', 'r'] as const).map(
  (permission) => [permission, JSON.stringify(COARSE_SCOPES[permission])] as const,
);

export function claimsOf(scopes: Scopes): { permission: BasePermission | 'custom'; scp?: Scopes } {
  const identical = (['r', 'rw', 'admin'] as const).find(
    (permission) => COARSE_SCOPES[permission] === scopes,
  );
  if (identical) return { permission: identical };
  const canonical = normalizeScopes(scopes);
  const text = JSON.stringify(canonical);
  const exactly = COARSE_CANONICAL.find(([, coarse]) => coarse === text)?.[0];
  return exactly ? { permission: exactly } : { permission: coarsePermission(canonical), scp: canonical };
}

/** Record operations restricted to one table (an attenuated exchange), other categories unchanged. */
export function narrowToTable(scopes: Scopes, table: string): Scopes {
  const only = Object.fromEntries(RECORD_OPERATIONS.map((op) => [op, [table]])) as unknown as Record<
    RecordOperation,
    TableList
  >;
  const everythingElse: Partial<Record<Category, Level>> = Object.fromEntries(
    CATEGORIES.map((category) => [category, 'rw']),
  );
  return intersectScopes(scopes, { v: 1, c: everythingElse, t: only });
}
