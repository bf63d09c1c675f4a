/**
 * The reference model of issue 13 ("Revoked means revoked, granted means no more"): a small statement
 * of who may do what, and of which Base-Tokens a verifier that has read the revocation feed accepts.
 * The commands (./commands.ts) drive the real app and compare every answer and every verdict with it.
 *
 * THE RULES ("before" and "after" mean the order in which things happened, never a comparison of
 * clocks; times, where the product counts them, are whole seconds on the clock of the process that
 * counts them: the two-process run lets the processes' clocks differ by up to 2 s)
 *
 * A Base-Token is accepted by a synced verifier iff
 *   1. it has not expired: now < exp + 30 s (the verifier's clock tolerance), and
 *   2. no change since it was issued ended it. A change ends the Base-Tokens issued before it that
 *      rely on what it takes away, and never one issued after it (a change made after a Base-Token's
 *      `exp` may also leave it to its 30 s of tolerance: it is past its end by the issuer's clock):
 *      - its API-Token disabled (PATCH, or the kill switch), deleted, regenerated (with or without a
 *        grace period), narrowed (its grant no longer contains the old one, or an earlier expiry),
 *        reported leaked (either live secret), or refused or shortened by a stricter token policy
 *        (all-bases tokens once forbidden; service accounts' rw tokens once capped to r; a maximum
 *        lifetime that ends the token within a Base-Token lifetime);
 *      - its API-Token losing that base to the kill switch (a multi-base token keeps its others);
 *      - its Account-Token revoked (sign-out, a password change or reset, all of the user's tokens
 *        revoked, leak report);
 *      - its temporary API-Token revoked or reported, or that token's Account-Token revoked;
 *      - its holder deactivated (every Base-Token of theirs);
 *      - its holder removed from its base or demoted on it (every Base-Token of theirs for that base);
 *      - itself revoked or reported leaked.
 *   Re-enabling, widening, promoting, re-adding, reactivating or loosening the policy brings back
 *   nothing: only Base-Tokens exchanged afterwards work.
 * and when it is accepted, it never grants more than its source grants its holder on its base now
 * (time limits aside: `exp` carries those).
 *
 * An exchange succeeds exactly when (and grants exactly what) these say:
 *   - API-Token: a live secret (the current one, or the previous one until its grace period ends),
 *     not deleted, enabled, not expired, allowed by the token policy, owner active, the base within
 *     its reach (its base, its list, its owner's workspace, or any base) and not taken by the kill
 *     switch, owner a member of the base. Grant: the token's grant ∩ the owner's role. `exp`: the
 *     earliest of now + 3 days, the token's expiry, its end under the policy's maximum lifetime and,
 *     with the previous secret, the end of the grace period.
 *   - Account-Token: not revoked, not expired, user active and a member. Grant: the role. `exp`: the
 *     earliest of now + 3 days and the Account-Token's expiry.
 *   - temporary API-Token (SeaTable's, made with an Account-Token by a member, with the lesser of
 *     their role and rw): within its hour, not revoked or reported, its Account-Token not revoked or
 *     expired, its maker not deactivated since it was made (that ends it for good), active, still a
 *     member. Grant: its permission ∩ the current role. `exp`: the earliest of now + 3 days, its
 *     hour and its Account-Token's expiry.
 *
 * Who may change what (commands.ts checks every answer against these):
 *   - people make API-Tokens within their role on every base a token lists, system admins make them for
 *     service accounts, and the token policy refuses at creation what it forbids;
 *   - a token's owner or a system admin manages it, but only its owner (a system admin, for a service
 *     account) regenerates it; a change that gives a token more (a wider grant, a later or no expiry,
 *     enabling it again) needs its owner still a member of every base it lists, holding the new grant;
 *     one that gives nothing more always works;
 *   - a base's admins set its members, and it keeps one admin; system admins deactivate, reactivate,
 *     revoke all of a user's tokens and set the policy; the kill switch is a base admin's for their
 *     base, a system admin's for any base or user.
 */

export const DAY = 86400;
/** The Base-Token lifetime (testConfig's `baseTokenTtlSeconds`). */
export const TTL = 3 * DAY;
/** The bundled verifier's default clock tolerance (src/verify/verifier.ts): `exp` counts this much later. */
export const TOLERANCE = 30;
/** A temporary API-Token's lifetime (src/tokens/temp-api-tokens.ts). */
export const TEMP_TTL = 3600;

export type Role = 'r' | 'rw' | 'admin';
export type Level = 'r' | 'rw';
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
/** What a token or Base-Token grants, category by category (absent: nothing). */
export type Grant = Partial<Record<Category, Level>>;

const rankOf = (level: Level | undefined) => (level === 'rw' ? 2 : level === 'r' ? 1 : 0);

/** What a role holds: `r` reads everything, `rw` also writes all but `base` and `users`, `admin` writes all. */
export function ceiling(role: Role): Grant {
  return Object.fromEntries(
    CATEGORIES.map((c) => [
      c,
      role === 'admin' || (role === 'rw' && c !== 'base' && c !== 'users') ? 'rw' : 'r',
    ]),
  );
}

export function intersect(a: Grant, b: Grant): Grant {
  const out: Grant = {};
  for (const c of CATEGORIES) {
    const level = rankOf(a[c]) <= rankOf(b[c]) ? a[c] : b[c];
    if (level) out[c] = level;
  }
  return out;
}

/** Whether `a` grants nothing beyond `b`. */
export const within = (a: Grant, b: Grant) => CATEGORIES.every((c) => rankOf(a[c]) <= rankOf(b[c]));
export const sameGrant = (a: Grant, b: Grant) => within(a, b) && within(b, a);
/** The coarse summary the policy's service-account cap looks at: rw if anything is writable. */
export const summary = (grant: Grant): Level => (Object.values(grant).includes('rw') ? 'rw' : 'r');
export const weakest = (role: Role): Level => (role === 'r' ? 'r' : 'rw');

/** The grants tokens are made with: the two shorthands and one custom set of scopes. */
export const GRANTS = {
  r: ceiling('r'),
  rw: ceiling('rw'),
  records: { records: 'rw', comments: 'r' },
} satisfies Record<string, Grant>;
export type GrantName = keyof typeof GRANTS;

/** Which bases an API-Token reaches (before the kill switch takes any). */
export type Reach =
  | { type: 'base'; base: number }
  | { type: 'bases'; bases: number[] }
  | { type: 'workspace'; owner: number }
  | { type: 'all' };

export interface User {
  id: string;
  email: string;
  /** A person's password (service accounts have none). */
  password: string;
  kind: 'person' | 'service';
  active: boolean;
  workspaceId: string;
}

export interface Base {
  uuid: string;
  name: string;
  /** The user whose workspace holds it. */
  owner: number;
  members: Map<number, Role>;
}

export interface AccountToken {
  id: string;
  secret: string;
  user: number;
  /** Its expiry (epoch seconds), or null for never. */
  endsAt: number | null;
  revoked: boolean;
}

export interface TempToken {
  jwt: string;
  jti: string;
  user: number;
  base: number;
  /** The Account-Token it was made with (index). */
  accountToken: number;
  permission: Level;
  exp: number;
  /** Revoked, reported, its Account-Token revoked, or its maker deactivated since it was made. */
  dead: boolean;
}

export interface ApiToken {
  id: string;
  name: string;
  secret: string;
  /** The previous secret during a regenerate's grace period. */
  previous: { secret: string; until: number } | null;
  /** Secrets that no longer work (for exchanges and leak reports that must do nothing). */
  stale: string[];
  owner: number;
  reach: Reach;
  grant: Grant;
  enabled: boolean;
  deleted: boolean;
  expiresAt: number | null;
  createdAt: number;
  /** Bases the kill switch took from a workspace or all-bases token. */
  cutOff: Set<number>;
}

export type Source =
  | { kind: 'api'; token: number; previousSecret: boolean }
  | { kind: 'account'; token: number }
  | { kind: 'temp'; token: number };

export interface BaseToken {
  jwt: string;
  jti: string;
  holder: number;
  base: number;
  source: Source;
  grant: Grant;
  iat: number;
  exp: number;
  /** What ended it, or null while nothing has. */
  ended: string | null;
  /** Ended by a change made after its `exp`: within the verifier's tolerance it may still be accepted. */
  endedAfterExp?: boolean;
  /**
   * Exchanged concurrently with a change that ends what it relies on, with an outcome that allows
   * either verdict (see Race in ./commands.ts): why, and the verifier's first verdict settles it.
   */
  undecided?: string;
  /** Expired past the verifier's tolerance and seen refused: it can never come back, so it is not checked again. */
  past?: boolean;
}

export interface Policy {
  maxLifetimeDays: number | null;
  forbidAllBases: boolean;
  serviceMax: Level;
}

export interface Model {
  /**
   * The clock, epoch seconds, of the process a step runs on: the first process's, except while a
   * step runs on another (see onProcess). The real clocks are moved with it.
   */
  now: number;
  /** Each process's clock minus the first one's, in seconds (two processes need not agree). */
  offsets: number[];
  users: User[];
  bases: Base[];
  accountTokens: AccountToken[];
  temps: TempToken[];
  apiTokens: ApiToken[];
  baseTokens: BaseToken[];
  policy: Policy;
}

/** Runs `fn` with `m.now` on process `via`'s clock. */
export function onProcess<T>(m: Model, via: number, fn: () => T): T {
  const reference = m.now;
  m.now = reference + m.offsets[via]!;
  try {
    return fn();
  } finally {
    m.now = reference;
  }
}

/** An exchange's answer: refused, or a Base-Token with exactly this grant and `exp`. */
export type Expected = { ok: false; why: string } | { ok: true; grant: Grant; exp: number };

const refuse = (why: string): Expected => ({ ok: false, why });
const earliest = (...times: (number | null)[]) =>
  Math.min(...times.filter((time): time is number => time !== null));

export const roleOf = (m: Model, user: number, base: number) => m.bases[base]!.members.get(user);

/** Whether an Account-Token still authenticates (its user may be deactivated: checked apart). */
export const accountTokenWorks = (m: Model, a: AccountToken) =>
  !a.revoked && (a.endsAt === null || a.endsAt > m.now);

/** The Account-Token a person acts with: their first working one, while they are active; else -1. */
export function session(m: Model, user: number): number {
  const u = m.users[user]!;
  if (u.kind !== 'person' || !u.active) return -1;
  return m.accountTokens.findIndex((a) => a.user === user && accountTokenWorks(m, a));
}

/** Whether a token's base list, workspace or scope covers `base`, and the kill switch has not taken it. */
export function reaches(m: Model, t: ApiToken, base: number): boolean {
  if (t.cutOff.has(base)) return false;
  switch (t.reach.type) {
    case 'base':
      return t.reach.base === base;
    case 'bases':
      return t.reach.bases.includes(base);
    case 'workspace':
      return m.bases[base]!.owner === t.reach.owner;
    case 'all':
      return true;
  }
}

/** The bases a token lists (its base, or its list of bases); a workspace or all-bases token lists none. */
export const listedBases = (t: Pick<ApiToken, 'reach'>): number[] =>
  t.reach.type === 'base' ? [t.reach.base] : t.reach.type === 'bases' ? t.reach.bases : [];

/**
 * Why a change that gives a token more (a wider grant, a later or no expiry, being enabled again) is
 * refused, or null: its owner must still be a member of every base it lists, holding at least the new
 * grant. A change that gives nothing more (narrowing, disabling, an earlier expiry) needs nothing of
 * the owner, so it works whatever they hold now.
 */
export function wideningRefused(
  m: Model,
  t: Pick<ApiToken, 'reach' | 'owner'>,
  grant?: Grant,
): string | null {
  for (const b of listedBases(t)) {
    const role = roleOf(m, t.owner, b);
    if (role === undefined) return `owner not a member of base ${b}`;
    if (grant && !within(grant, ceiling(role))) return `above the owner's ${role} on base ${b}`;
  }
  return null;
}

/** Why the token policy refuses a token whatever the time (scope, service-account cap), or null. */
function policyForbids(m: Model, t: Pick<ApiToken, 'reach' | 'owner' | 'grant'>): string | null {
  if (m.policy.forbidAllBases && t.reach.type === 'all') return 'the policy forbids all-bases tokens';
  if (m.users[t.owner]!.kind === 'service' && m.policy.serviceMax === 'r' && summary(t.grant) === 'rw')
    return "the policy caps service accounts' tokens to r";
  return null;
}

/** When the policy's maximum lifetime ends a token, or null. */
const policyEnd = (m: Model, t: { createdAt: number }) =>
  m.policy.maxLifetimeDays === null ? null : t.createdAt + m.policy.maxLifetimeDays * DAY;

/** Why the policy refuses to make (or re-date, re-scope) a token with these facts now, or null. */
export function policyRefusesToMake(
  m: Model,
  token: { createdAt: number; expiresAt: number | null; reach: Reach; owner: number; grant: Grant },
): string | null {
  const max = m.policy.maxLifetimeDays;
  if (max !== null && (token.expiresAt === null || token.expiresAt - token.createdAt > max * DAY))
    return 'longer than the maximum lifetime';
  const end = policyEnd(m, token);
  if (end !== null && end <= m.now) return 'older than the maximum lifetime';
  return policyForbids(m, token);
}

/** An exchange of API-Token `index` for `base` with `secret`. */
export function exchangeApi(m: Model, index: number, base: number, secret: string): Expected {
  const t = m.apiTokens[index]!;
  const previous = t.previous !== null && t.previous.secret === secret && t.previous.until > m.now;
  if (secret !== t.secret && !previous) return refuse('not a live secret');
  if (t.deleted) return refuse('deleted');
  if (!t.enabled) return refuse('disabled');
  if (t.expiresAt !== null && t.expiresAt <= m.now) return refuse('expired');
  const end = policyEnd(m, t);
  if (end !== null && end <= m.now) return refuse('older than the policy allows');
  const forbidden = policyForbids(m, t);
  if (forbidden) return refuse(forbidden);
  if (!m.users[t.owner]!.active) return refuse('owner deactivated');
  if (!reaches(m, t, base)) return refuse('base not in reach');
  const role = roleOf(m, t.owner, base);
  if (role === undefined) return refuse('owner not a member');
  return {
    ok: true,
    grant: intersect(t.grant, ceiling(role)),
    exp: earliest(m.now + TTL, t.expiresAt, end, previous ? t.previous!.until : null),
  };
}

export function exchangeAccount(m: Model, index: number, base: number): Expected {
  const a = m.accountTokens[index]!;
  if (!accountTokenWorks(m, a)) return refuse('Account-Token revoked or expired');
  if (!m.users[a.user]!.active) return refuse('deactivated');
  const role = roleOf(m, a.user, base);
  if (role === undefined) return refuse('not a member');
  return { ok: true, grant: ceiling(role), exp: earliest(m.now + TTL, a.endsAt) };
}

/** The permission of a temporary API-Token made now with Account-Token `index` for `base`, or null. */
export function mintTemp(m: Model, index: number, base: number): Level | null {
  const a = m.accountTokens[index]!;
  const role = roleOf(m, a.user, base);
  if (!accountTokenWorks(m, a) || !m.users[a.user]!.active || role === undefined) return null;
  return weakest(role);
}

export function exchangeTemp(m: Model, index: number): Expected {
  const temp = m.temps[index]!;
  const a = m.accountTokens[temp.accountToken]!;
  if (temp.exp <= m.now) return refuse('past its hour');
  if (temp.dead) return refuse('revoked');
  if (!accountTokenWorks(m, a)) return refuse('its Account-Token revoked or expired');
  if (!m.users[temp.user]!.active) return refuse('deactivated');
  const role = roleOf(m, temp.user, temp.base);
  if (role === undefined) return refuse('no longer a member');
  return {
    ok: true,
    grant: intersect(ceiling(temp.permission), ceiling(role)),
    exp: earliest(m.now + TTL, temp.exp, a.endsAt),
  };
}

/** Whether a synced verifier must accept this Base-Token now: true, false, or either (see rule 2). */
export function accepted(m: Model, b: BaseToken): boolean | 'either' {
  if (m.now >= b.exp + TOLERANCE) return false;
  if (b.ended === null) return true;
  return b.endedAfterExp ? 'either' : false;
}

/** What the Base-Token's source grants its holder on its base now, time limits aside; null for nothing. */
export function allowedNow(m: Model, b: BaseToken): Grant | null {
  const holder = m.users[b.holder]!;
  const role = roleOf(m, b.holder, b.base);
  if (!holder.active || role === undefined) return null;
  const { source } = b;
  if (source.kind === 'api') {
    const t = m.apiTokens[source.token]!;
    if (t.deleted || !t.enabled || policyForbids(m, t) || !reaches(m, t, b.base)) return null;
    return intersect(t.grant, ceiling(role));
  }
  if (source.kind === 'account') return m.accountTokens[source.token]!.revoked ? null : ceiling(role);
  const temp = m.temps[source.token]!;
  if (temp.dead || m.accountTokens[temp.accountToken]!.revoked) return null;
  return intersect(ceiling(temp.permission), ceiling(role));
}

// What each change ends. Every change that takes something away calls one of these at the moment it
// happens: the Base-Tokens issued so far that rely on it end; later ones are not touched.

function end(m: Model, why: string, relies: (b: BaseToken) => boolean) {
  for (const b of m.baseTokens)
    if (b.ended === null && relies(b)) {
      b.ended = why;
      b.endedAfterExp = m.now >= b.exp;
    }
}

const fromApiToken = (index: number) => (b: BaseToken) => b.source.kind === 'api' && b.source.token === index;

/** Disabled, deleted, regenerated, narrowed, reported, or refused by a stricter policy. */
export function endApiToken(m: Model, index: number, why: string) {
  end(m, why, fromApiToken(index));
}

/** The kill switch took `base` from a multi-base token. */
export function endApiTokenOnBase(m: Model, index: number, base: number, why: string) {
  end(m, why, (b) => fromApiToken(index)(b) && b.base === base);
}

/** An Account-Token revoked: its Base-Tokens, its temporary API-Tokens and theirs. */
export function endAccountToken(m: Model, index: number, why: string) {
  m.accountTokens[index]!.revoked = true;
  end(m, why, (b) => b.source.kind === 'account' && b.source.token === index);
  for (const [t, temp] of m.temps.entries()) if (temp.accountToken === index) endTemp(m, t, why);
}

export function endTemp(m: Model, index: number, why: string) {
  m.temps[index]!.dead = true;
  end(m, why, (b) => b.source.kind === 'temp' && b.source.token === index);
}

/** A user deactivated: every Base-Token they hold, and every temporary API-Token they made so far. */
export function endHolder(m: Model, user: number, why: string) {
  end(m, why, (b) => b.holder === user);
  for (const temp of m.temps) if (temp.user === user) temp.dead = true;
}

/** A member removed from a base or demoted on it. */
export function endHolderOnBase(m: Model, user: number, base: number, why: string) {
  end(m, why, (b) => b.holder === user && b.base === base);
}

export function endBaseToken(b: BaseToken, why: string) {
  if (b.ended === null) b.ended = why;
}

/**
 * The live (not deleted) API-Tokens a policy change from `before` to the current policy ends: all-bases
 * tokens once forbidden, service accounts' rw tokens once capped, and those a shorter maximum lifetime
 * ends before a Base-Token issued now would expire.
 */
export function endedByPolicy(m: Model, before: Policy): number[] {
  const after = m.policy;
  const forbidsAll = after.forbidAllBases && !before.forbidAllBases;
  const caps = after.serviceMax === 'r' && before.serviceMax === 'rw';
  const shorter =
    after.maxLifetimeDays !== null &&
    (before.maxLifetimeDays === null || after.maxLifetimeDays < before.maxLifetimeDays);
  const ended: number[] = [];
  for (const [index, t] of m.apiTokens.entries()) {
    if (t.deleted) continue;
    if (
      (forbidsAll && t.reach.type === 'all') ||
      (caps && m.users[t.owner]!.kind === 'service' && summary(t.grant) === 'rw') ||
      (shorter && t.createdAt + after.maxLifetimeDays! * DAY < m.now + TTL)
    )
      ended.push(index);
  }
  return ended;
}

/** Grant as the Base-Token states it: `scp.c`, or its coarse `permission`. */
export function grantOfClaims(claims: { permission: string; scp?: { c: Grant } }): Grant {
  if (claims.scp) return claims.scp.c;
  return ceiling(claims.permission as Role);
}
