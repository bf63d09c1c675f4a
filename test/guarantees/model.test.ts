import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../helpers/app';
import { feedVerifier } from '../helpers/feed-verifier';

// Issue 13, "Prove it with a model": random sequences of operations by several users on two bases,
// run against the real app in-process (SQLite, frozen clock) and against a small reference model of
// who may do what. After every step, every Base-Token ever issued is checked by the real verifier
// with a synced feed: it must be accepted exactly when the model says its source still grants it,
// and never with a `permission` above what its holder has now.
//
// Model rule (README "Verifying Base-Tokens", class 1 and the revocation feed):
// a Base-Token issued at second `iat` is live iff
//  - it has not expired (`exp` plus the verifier's 30 s clock tolerance; long clock steps reach it),
//  - its holder is active (deactivation ends every token of theirs),
//  - its holder's access to its base was not reduced (member removed or demoted) at or after `iat`
//    (`subject_base`; re-adding or promoting later does not bring it back),
//  - from an API-Token: that token was not disabled, deleted, regenerated (no grace) or narrowed
//    (rw → r) at or after `iat` (`client`; re-enabling or widening brings back only Base-Tokens
//    exchanged later).
// Exchanges are checked too: the model says whether the exchange succeeds and with which permission
// (an API-Token: its permission capped by the membership; an Account-Token: the membership).
//
// Same-second limit: times are whole seconds, so a Base-Token obtained in the same second as its
// source's re-enabling (or its holder's re-promotion) is refused too (README, "Two limits"; class 2
// of issue 13, not fixed yet). The model does not describe that, so every step is followed by a
// clock advance of at least 1 s before the invariant is checked and before the next step runs.
//
// Not covered: temporary API-Tokens, the kill switch, token policy, leak reports, scopes and expiry
// changes by PATCH, regenerate with grace, multi-base/workspace/all-bases tokens, service accounts,
// Account-Token revocation and maximum age, reactivating users, and two processes on one database.
//
// Bounded for `npm run test:fast`: DEFAULT_RUNS sequences of at most MAX_COMMANDS steps (about 550
// steps in all, ~5 s; fast-check skips generated steps the model says do not apply).
// Longer run: TOKENLADDER_MODEL_RUNS=<n> npx vitest run test/guarantees/model.test.ts
// (1000 runs ≈ 13 600 steps ≈ 80 s on the 2-core dev machine).
// Replay a failure: TOKENLADDER_MODEL_SEED=<seed printed by fast-check> (plus its path if printed:
// TOKENLADDER_MODEL_PATH=<path>).

const DEFAULT_RUNS = 40;
const MAX_COMMANDS = 40;
const runs = Number(process.env.TOKENLADDER_MODEL_RUNS ?? DEFAULT_RUNS);
const seed =
  process.env.TOKENLADDER_MODEL_SEED === undefined ? undefined : Number(process.env.TOKENLADDER_MODEL_SEED);
const path = process.env.TOKENLADDER_MODEL_PATH;

type Perm = 'r' | 'rw' | 'admin';
const rank: Record<Perm, number> = { r: 1, rw: 2, admin: 3 };
const USERS = 3;
const BASES = 2;
const NEVER = Number.NEGATIVE_INFINITY;
/** The bundled verifier's default clock tolerance (src/verify/verifier.ts): `exp` counts this much later. */
const CLOCK_TOLERANCE = 30;

interface ModelApiToken {
  id: string;
  secret: string;
  owner: number;
  base: number;
  permission: 'r' | 'rw';
  enabled: boolean;
  deleted: boolean;
  /** The last second it was disabled, deleted or regenerated. */
  revokedAt: number;
}

interface Issued {
  jwt: string;
  user: number;
  base: number;
  /** An index into `apiTokens`, or null for the holder's Account-Token. */
  apiToken: number | null;
  iat: number;
  exp: number;
  permission: Perm;
}

interface Model {
  users: { active: boolean }[];
  /** members[base][user]: the permission, or undefined. */
  members: (Perm | undefined)[][];
  /** reducedAt[base][user]: the last second the user's access to the base was reduced. */
  reducedAt: number[][];
  apiTokens: ModelApiToken[];
  issued: Issued[];
}

interface Real {
  t: TestApp;
  admin: string;
  users: { id: string; token: string }[];
  bases: string[];
  check: (jwt: string, baseUuid?: string) => Promise<string>;
  names: number;
}

type Command = fc.AsyncCommand<Model, Real, false>;

const now = (r: Real) => Math.floor(r.t.clock.now() / 1000);
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

/** The permission an exchange of this API-Token yields now, or null when it must be refused. */
function apiTokenGrants(m: Model, token: ModelApiToken): 'r' | 'rw' | null {
  if (token.deleted || !token.enabled || !m.users[token.owner]!.active) return null;
  const member = m.members[token.base]![token.owner];
  if (member === undefined) return null;
  return token.permission === 'r' || member === 'r' ? 'r' : 'rw';
}

/** Whether the model says this Base-Token must be accepted at second `at`. */
function live(m: Model, b: Issued, at: number): boolean {
  if (at >= b.exp + CLOCK_TOLERANCE) return false;
  if (!m.users[b.user]!.active) return false;
  if (m.reducedAt[b.base]![b.user]! >= b.iat) return false;
  if (b.apiToken !== null && m.apiTokens[b.apiToken]!.revokedAt >= b.iat) return false;
  return true;
}

/** What the holder may do on the base now through this Base-Token's source (for the claim bound). */
function allowedNow(m: Model, b: Issued): Perm | null {
  if (b.apiToken !== null) return apiTokenGrants(m, m.apiTokens[b.apiToken]!);
  if (!m.users[b.user]!.active) return null;
  return m.members[b.base]![b.user] ?? null;
}

/** After every step: at least a second passes (the same-second limit, above), then every Base-Token is checked. */
async function invariant(m: Model, r: Real) {
  r.t.clock.advance(1);
  const at = now(r);
  for (const [i, b] of m.issued.entries()) {
    const verdict = await r.check(b.jwt, r.bases[b.base]);
    const expected = live(m, b, at);
    const what = `Base-Token #${i} (user ${b.user}, base ${b.base}, ${b.apiToken === null ? 'account' : `api #${b.apiToken}`}, iat ${b.iat}) at ${at}`;
    if (expected) {
      expect(verdict, what).toBe('accepted');
      const allowed = allowedNow(m, b);
      expect(allowed, `${what}: accepted but the model grants nothing`).not.toBeNull();
      expect(rank[b.permission], `${what}: claim ${b.permission} above ${allowed}`).toBeLessThanOrEqual(
        rank[allowed!],
      );
    } else {
      expect(['token_revoked', 'token_expired'], what).toContain(verdict);
    }
  }
}

const pick = <T>(list: T[], n: number): [number, T] | undefined =>
  list.length === 0 ? undefined : [n % list.length, list[n % list.length]!];

/** Live (not deleted) API-Tokens whose owner is active: the ones their owner can still manage. */
const manageable = (m: Model) =>
  m.apiTokens
    .map((token, index) => ({ token, index }))
    .filter((x) => !x.token.deleted && m.users[x.token.owner]!.active);

class CreateApiToken implements Command {
  constructor(
    readonly user: number,
    readonly base: number,
    readonly permission: 'r' | 'rw',
  ) {}
  check(m: Model) {
    const member = m.members[this.base]![this.user];
    return m.users[this.user]!.active && member !== undefined && rank[member] >= rank[this.permission];
  }
  async run(m: Model, r: Real) {
    const token = await r.t.createApiToken(
      r.users[this.user]!.token,
      r.bases[this.base]!,
      `model-${r.names++}`,
      this.permission,
    );
    m.apiTokens.push({
      id: token.id,
      secret: token.token,
      owner: this.user,
      base: this.base,
      permission: this.permission,
      enabled: true,
      deleted: false,
      revokedAt: NEVER,
    });
    await invariant(m, r);
  }
  toString() {
    return `createApiToken(user ${this.user}, base ${this.base}, ${this.permission})`;
  }
}

class ExchangeApiToken implements Command {
  constructor(readonly n: number) {}
  check(m: Model) {
    return m.apiTokens.length > 0;
  }
  async run(m: Model, r: Real) {
    const [index, token] = pick(m.apiTokens, this.n)!;
    const grants = apiTokenGrants(m, token);
    const response = await r.t.call('POST', '/api/v1/base-tokens', {
      token: token.secret,
      body: { base_uuid: r.bases[token.base] },
    });
    if (grants === null) {
      expect(response.status, JSON.stringify(response.body)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    } else {
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      const jwt = response.body.base_token as string;
      const claims = claimsOf(jwt);
      expect(claims.permission).toBe(grants);
      expect(claims.iat).toBe(now(r));
      m.issued.push({
        jwt,
        user: token.owner,
        base: token.base,
        apiToken: index,
        iat: claims.iat,
        exp: claims.exp,
        permission: grants,
      });
    }
    await invariant(m, r);
  }
  toString() {
    return `exchangeApiToken(#${this.n})`;
  }
}

class ExchangeAccountToken implements Command {
  constructor(
    readonly user: number,
    readonly base: number,
  ) {}
  check(m: Model) {
    // A deactivated user's Account-Token is refused (401); checked by class 1, not repeated here.
    return m.users[this.user]!.active;
  }
  async run(m: Model, r: Real) {
    const member = m.members[this.base]![this.user];
    const response = await r.t.call('POST', '/api/v1/base-tokens', {
      token: r.users[this.user]!.token,
      body: { base_uuid: r.bases[this.base] },
    });
    if (member === undefined) {
      expect(response.status, JSON.stringify(response.body)).toBe(404);
    } else {
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      const jwt = response.body.base_token as string;
      const claims = claimsOf(jwt);
      expect(claims.permission).toBe(member);
      m.issued.push({
        jwt,
        user: this.user,
        base: this.base,
        apiToken: null,
        iat: claims.iat,
        exp: claims.exp,
        permission: member,
      });
    }
    await invariant(m, r);
  }
  toString() {
    return `exchangeAccountToken(user ${this.user}, base ${this.base})`;
  }
}

class ChangeApiToken implements Command {
  constructor(
    readonly n: number,
    readonly action: 'disable' | 'enable' | 'delete' | 'regenerate' | 'narrow' | 'widen',
  ) {}
  check(m: Model) {
    return manageable(m).length > 0;
  }
  async run(m: Model, r: Real) {
    const [, { token }] = pick(manageable(m), this.n)!;
    const owner = r.users[token.owner]!.token;
    const at = now(r);
    if (this.action === 'delete') {
      const response = await r.t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: owner });
      expect(response.status, JSON.stringify(response.body)).toBe(204);
      token.deleted = true;
      token.revokedAt = at;
    } else if (this.action === 'regenerate') {
      const response = await r.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
        token: owner,
        body: {},
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      token.secret = response.body.token;
      token.revokedAt = at;
    } else if (this.action === 'narrow' || this.action === 'widen') {
      const permission = this.action === 'narrow' ? 'r' : 'rw';
      const response = await r.t.call('PATCH', `/api/v1/api-tokens/${token.id}`, {
        token: owner,
        body: { permission },
      });
      const member = m.members[token.base]![token.owner];
      if (permission === 'rw' && token.permission === 'r' && (member === undefined || member === 'r')) {
        // Nobody widens a token above its owner's permission, nor at all once its owner has left the
        // token's base (403). Narrowing, or asking for the permission it has, grants nothing more:
        // that works whatever the owner holds now.
        expect(response.status, JSON.stringify(response.body)).toBe(403);
      } else {
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        // Narrowing (rw → r) ends its Base-Tokens; widening or the same permission ends nothing.
        if (permission === 'r' && token.permission === 'rw') token.revokedAt = at;
        token.permission = permission;
      }
    } else {
      const enabled = this.action === 'enable';
      const response = await r.t.call('PATCH', `/api/v1/api-tokens/${token.id}`, {
        token: owner,
        body: { enabled },
      });
      if (enabled && !token.enabled && m.members[token.base]![token.owner] === undefined) {
        // Enabling again widens it: refused once its owner has left the token's base (403).
        expect(response.status, JSON.stringify(response.body)).toBe(403);
      } else {
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        // Disabling ends its Base-Tokens (even when already disabled: there are none live then);
        // enabling ends nothing.
        if (!enabled) token.revokedAt = at;
        token.enabled = enabled;
      }
    }
    await invariant(m, r);
  }
  toString() {
    return `${this.action}ApiToken(#${this.n})`;
  }
}

/** The first active admin of the base, or -1. */
const actor = (m: Model, base: number) =>
  m.members[base]!.findIndex((p, u) => p === 'admin' && m.users[u]!.active);

class SetMember implements Command {
  constructor(
    readonly user: number,
    readonly base: number,
    readonly permission: Perm | null,
  ) {}
  check(m: Model) {
    // Removing someone who is not a member is not interesting; someone must be able to do it.
    return (
      (this.permission !== null || m.members[this.base]![this.user] !== undefined) &&
      actor(m, this.base) !== -1
    );
  }
  async run(m: Model, r: Real) {
    const members = m.members[this.base]!;
    const before = members[this.user];
    const path = `/api/v1/bases/${r.bases[this.base]}/members/${r.users[this.user]!.id}`;
    // System admins see no base they are not a member of (404): an active admin of the base does it.
    const token = r.users[actor(m, this.base)]!.token;
    const response =
      this.permission === null
        ? await r.t.call('DELETE', path, { token })
        : await r.t.call('PUT', path, { token, body: { permission: this.permission } });
    const otherAdmin = members.some((p, u) => u !== this.user && p === 'admin');
    const losesAdmin = before === 'admin' && this.permission !== 'admin';
    if (losesAdmin && !otherAdmin) {
      // The last admin of a base cannot be demoted or removed.
      expect(response.status, JSON.stringify(response.body)).toBe(409);
    } else {
      expect(response.status, JSON.stringify(response.body)).toBe(this.permission === null ? 204 : 200);
      if (before !== undefined && (this.permission === null || rank[this.permission] < rank[before]))
        m.reducedAt[this.base]![this.user] = now(r);
      members[this.user] = this.permission ?? undefined;
    }
    await invariant(m, r);
  }
  toString() {
    return this.permission === null
      ? `removeMember(user ${this.user}, base ${this.base})`
      : `setMember(user ${this.user}, base ${this.base}, ${this.permission})`;
  }
}

class DeactivateUser implements Command {
  constructor(readonly user: number) {}
  check(m: Model) {
    return m.users[this.user]!.active;
  }
  async run(m: Model, r: Real) {
    const response = await r.t.call('PATCH', `/api/v1/users/${r.users[this.user]!.id}`, {
      token: r.admin,
      body: { is_active: false },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    m.users[this.user]!.active = false;
    await invariant(m, r);
  }
  toString() {
    return `deactivateUser(${this.user})`;
  }
}

class AdvanceClock implements Command {
  constructor(readonly seconds: number) {}
  check() {
    return true;
  }
  async run(m: Model, r: Real) {
    r.t.clock.advance(this.seconds);
    await invariant(m, r);
  }
  toString() {
    return `advanceClock(${this.seconds})`;
  }
}

const user = fc.integer({ min: 0, max: USERS - 1 });
const base = fc.integer({ min: 0, max: BASES - 1 });
// Weighted so that API-Token lifecycles are long and deactivation (which ends a user's part) is rare.
const commands = [
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(user, base, fc.constantFrom('r' as const, 'rw' as const))
        .map(([u, b, p]) => new CreateApiToken(u, b, p)),
    },
    { weight: 4, arbitrary: fc.nat().map((n) => new ExchangeApiToken(n)) },
    { weight: 2, arbitrary: fc.tuple(user, base).map(([u, b]) => new ExchangeAccountToken(u, b)) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          fc.nat(),
          fc.constantFrom(
            'narrow' as const,
            'widen' as const,
            'disable' as const,
            'enable' as const,
            'delete' as const,
            'regenerate' as const,
          ),
        )
        .map(([n, action]) => new ChangeApiToken(n, action)),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(user, base, fc.constantFrom<Perm | null>('r', 'rw', 'admin', null))
        .map(([u, b, p]) => new SetMember(u, b, p)),
    },
    { weight: 1, arbitrary: user.map((u) => new DeactivateUser(u)) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 120 }).map((s) => new AdvanceClock(s)) },
    // Now and then far enough for Base-Tokens (3 days) and their feed entries to expire.
    { weight: 1, arbitrary: fc.integer({ min: 3600, max: 2 * 86400 }).map((s) => new AdvanceClock(s)) },
  ),
];

/** An admin, three users; base 0 owned by user 0 (user 1 rw, user 2 r), base 1 by user 1 (user 2 rw). */
async function world(): Promise<{ model: Model; real: Real }> {
  const t = await testApp();
  const admin = await t.login();
  const users = [];
  for (let i = 0; i < USERS; i++) users.push(await t.userWithToken(admin, `user${i}@example.com`));
  const bases = [await t.createBase(users[0]!.token, 'Zero'), await t.createBase(users[1]!.token, 'One')];
  const members: (Perm | undefined)[][] = [
    ['admin', 'rw', 'r'],
    [undefined, 'admin', 'rw'],
  ];
  for (const [b, row] of members.entries())
    for (const [u, permission] of row.entries()) {
      if (permission === undefined || permission === 'admin') continue;
      const added = await t.call('PUT', `/api/v1/bases/${bases[b]}/members/${users[u]!.id}`, {
        token: users[b]!.token,
        body: { permission },
      });
      expect(added.status, JSON.stringify(added.body)).toBe(200);
    }
  t.clock.advance(1);
  return {
    model: {
      users: users.map(() => ({ active: true })),
      members,
      reducedAt: members.map((row) => row.map(() => NEVER)),
      apiTokens: [],
      issued: [],
    },
    real: { t, admin, users, bases, check: feedVerifier(t).checkSynced, names: 0 },
  };
}

describe('model: every Base-Token is accepted exactly while its source grants it', () => {
  it(`random sequences (${runs} runs × ≤ ${MAX_COMMANDS} steps)`, { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
        const { model, real } = await world();
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: runs, ...(seed === undefined ? {} : { seed }), ...(path === undefined ? {} : { path }) },
    );
  });
});
