/**
 * Fine-grained permissions carried by a Base-Token in its `scp` claim (format version 1), shared by
 * tokenladder (which computes them) and the verifier (which checks them). A stable contract:
 *
 * ```json
 * "scp": { "v": 1,
 *          "c": { "records": "rw", "comments": "r" },
 *          "t": { "create": ["tbl1"], "read": ["*"], "update": ["tbl1"], "delete": [] } }
 * ```
 * - `c`: permission categories (NocoDB's eight), each `"r"` or `"rw"`; an absent category is denied.
 * - `t`: per-table record operations (Baserow's CRUD); `"*"` means every table. Absent when it adds
 *   nothing to `c.records` (`rw`: every operation on every table; `r`: read on every table).
 * A Base-Token without `scp` carries only the coarse `permission` (`r`, `rw`, `admin`), which maps to
 * scopes by {@link scopesOfPermission}. Pure functions, no dependencies.
 */

/** The permission categories, deny by default. */
export const CATEGORIES = [
  'records',
  'comments',
  'tables',
  'fields',
  'views',
  'webhooks',
  'base',
  'users',
] as const;
export type Category = (typeof CATEGORIES)[number];
export type Level = 'r' | 'rw';
export const RECORD_OPERATIONS = ['create', 'read', 'update', 'delete'] as const;
export type RecordOperation = (typeof RECORD_OPERATIONS)[number];
/** Table ids, or `["*"]` for every table. */
export type TableList = readonly string[];

export interface Scopes {
  readonly v: 1;
  readonly c: Readonly<Partial<Record<Category, Level>>>;
  readonly t?: Readonly<Record<RecordOperation, TableList>>;
}

/** An action a downstream service asks about: `<category>:read|write`, or a record operation. */
export type ScopeAction = `${Category}:${'read' | 'write'}` | `records:${RecordOperation}`;

const ALL: TableList = ['*'];
const NONE: TableList = [];
/** What `rw` grants without being admin: everything but the base's settings and its users, read-only. */
const ADMIN_ONLY: readonly Category[] = ['base', 'users'];

/**
 * The scopes a coarse permission stands for: `r` reads everything; `rw` also writes everything but
 * `base` and `users`; `admin` writes everything.
 *
 * @example
 * ```ts
 * scopesOfPermission('r').c.records; // 'r'
 * ```
 */
export function scopesOfPermission(permission: 'r' | 'rw' | 'admin'): Scopes {
  const c: Partial<Record<Category, Level>> = {};
  for (const category of CATEGORIES) {
    c[category] =
      permission === 'admin' || (permission === 'rw' && !ADMIN_ONLY.includes(category)) ? 'rw' : 'r';
  }
  return { v: 1, c };
}

/** The per-table operations implied by a records level. */
function tablesOfLevel(level: Level | undefined): Record<RecordOperation, TableList> {
  return {
    create: level === 'rw' ? ALL : NONE,
    read: level ? ALL : NONE,
    update: level === 'rw' ? ALL : NONE,
    delete: level === 'rw' ? ALL : NONE,
  };
}

const tablesOf = (scopes: Scopes) => scopes.t ?? tablesOfLevel(scopes.c.records);
const isAll = (list: TableList) => list.includes('*');

function intersectTables(a: TableList, b: TableList): TableList {
  if (isAll(a)) return isAll(b) ? ALL : [...b];
  if (isAll(b)) return [...a];
  return a.filter((table) => b.includes(table));
}

const levelRank = (level: Level | undefined) => (level === 'rw' ? 2 : level === 'r' ? 1 : 0);

/**
 * Canonical form: `c.records` agrees with `t` (`rw` when any write operation has a table, `r` when
 * only read does), and `t` is dropped when `c.records` says the same.
 */
export function normalizeScopes(scopes: Scopes): Scopes {
  const t = tablesOf(scopes);
  const writes = t.create.length + t.update.length + t.delete.length > 0;
  const records: Level | undefined = writes ? 'rw' : t.read.length > 0 ? 'r' : undefined;
  const c: Partial<Record<Category, Level>> = {};
  for (const category of CATEGORIES) {
    const level = category === 'records' ? records : scopes.c[category];
    if (level) c[category] = level;
  }
  const implied = tablesOfLevel(records);
  const redundant = RECORD_OPERATIONS.every((op) => sameList(t[op], implied[op]));
  return redundant
    ? { v: 1, c }
    : {
        v: 1,
        c,
        t: {
          create: sorted(t.create),
          read: sorted(t.read),
          update: sorted(t.update),
          delete: sorted(t.delete),
        },
      };
}

const sorted = (list: TableList) => (isAll(list) ? ALL : [...new Set(list)].sort());
const sameList = (a: TableList, b: TableList) => sorted(a).join('\u0000') === sorted(b).join('\u0000');

/** What both grant: the intersection model (a token's grant ∩ its owner's role, ∩ what an exchange asks for). */
export function intersectScopes(a: Scopes, b: Scopes): Scopes {
  const c: Partial<Record<Category, Level>> = {};
  for (const category of CATEGORIES) {
    const rank = Math.min(levelRank(a.c[category]), levelRank(b.c[category]));
    if (rank > 0) c[category] = rank === 2 ? 'rw' : 'r';
  }
  const ta = tablesOf(a);
  const tb = tablesOf(b);
  const t = Object.fromEntries(
    RECORD_OPERATIONS.map((op) => [op, intersectTables(ta[op], tb[op])]),
  ) as Record<RecordOperation, TableList>;
  return normalizeScopes({ v: 1, c, t });
}

/** True when `inner` grants nothing `outer` does not. */
export function isSubsetOf(inner: Scopes, outer: Scopes): boolean {
  return JSON.stringify(intersectScopes(inner, outer)) === JSON.stringify(normalizeScopes(inner));
}

/**
 * The largest coarse permission wholly inside `scopes` (`rw`, then `r`), or `custom` when not even
 * reading everything is granted (SeaTable also calls such grants `custom-…`). Services that only read
 * `permission` therefore never see more than the token grants.
 */
export function coarsePermission(scopes: Scopes): 'r' | 'rw' | 'custom' {
  if (isSubsetOf(scopesOfPermission('rw'), scopes)) return 'rw';
  if (isSubsetOf(scopesOfPermission('r'), scopes)) return 'r';
  return 'custom';
}

/**
 * Whether `scopes` allow an action, for one table where it matters. Without `table`, a record
 * operation needs every table.
 *
 * @example
 * ```ts
 * allows(scopes, 'records:update', 'tbl1');
 * allows(scopes, 'webhooks:write');
 * ```
 */
export function allows(scopes: Scopes, action: ScopeAction, table?: string): boolean {
  const [category, verb] = action.split(':') as [Category, string];
  const level = scopes.c[category];
  if (category === 'records' && verb !== 'write') {
    const op = (verb === 'read' ? 'read' : verb) as RecordOperation;
    const list = tablesOf(scopes)[op];
    return isAll(list) || (table !== undefined && list.includes(table));
  }
  if (category === 'records') {
    return (['create', 'update', 'delete'] as const).every((op) => allows(scopes, `records:${op}`, table));
  }
  return verb === 'read' ? level !== undefined : level === 'rw';
}

const TABLE_ID = /^(\*|[A-Za-z0-9_-]{1,64})$/;

/**
 * Strict reading of an untrusted `scp` value (a claim, or stored JSON); `undefined` if malformed.
 */
export function parseScopes(value: unknown): Scopes | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { v, c, t } = value as Record<string, unknown>;
  if (v !== 1 || typeof c !== 'object' || c === null || Array.isArray(c)) return undefined;
  const categories: Partial<Record<Category, Level>> = {};
  for (const [key, level] of Object.entries(c)) {
    if (!(CATEGORIES as readonly string[]).includes(key) || (level !== 'r' && level !== 'rw'))
      return undefined;
    categories[key as Category] = level;
  }
  if (t === undefined) return { v: 1, c: categories };
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return undefined;
  const tables: Partial<Record<RecordOperation, TableList>> = {};
  for (const op of RECORD_OPERATIONS) {
    const list = (t as Record<string, unknown>)[op];
    if (
      !Array.isArray(list) ||
      list.length > 1000 ||
      !list.every((id) => typeof id === 'string' && TABLE_ID.test(id))
    )
      return undefined;
    tables[op] = [...list];
  }
  if (Object.keys(t).some((key) => !(RECORD_OPERATIONS as readonly string[]).includes(key))) return undefined;
  return { v: 1, c: categories, t: tables as Record<RecordOperation, TableList> };
}

/** Every action a `scope` string can name, in the order {@link scopeString} lists them. */
const SCOPE_ACTIONS: readonly ScopeAction[] = [
  ...CATEGORIES.flatMap((category) => [`${category}:read`, `${category}:write`] as ScopeAction[]),
  'records:create',
  'records:update',
  'records:delete',
];

/**
 * The Base-Token's `scope` claim (RFC 9068 §2.2.3, RFC 8693 §4.2): space-separated, for gateways that
 * match scope strings (Envoy, Kong, Spring's `SCOPE_*` authorities). It names `base:<permission>`
 * first when the grant is exactly a coarse permission (`r`, `rw`, `admin`), then every action the
 * scopes allow on every table, in a fixed order. Table-level grants are not in it (they stay in
 * `scp`): a record operation allowed on some tables only is left out, so a gateway that checks the
 * string never lets through more than the token grants.
 *
 * @example
 * ```ts
 * scopeString(scopesOfPermission('r'), 'r');
 * // 'base:r records:read comments:read tables:read fields:read views:read webhooks:read base:read users:read'
 * ```
 */
export function scopeString(scopes: Scopes, permission?: 'r' | 'rw' | 'admin' | 'custom'): string {
  const coarse =
    permission === 'r' || permission === 'rw' || permission === 'admin' ? [`base:${permission}`] : [];
  return [...coarse, ...SCOPE_ACTIONS.filter((action) => allows(scopes, action))].join(' ');
}
