import fc from 'fast-check';
import { expect } from 'vitest';
import { PASSWORD } from '../../helpers/app';
import type { Real, Reply } from './real';
import * as M from './rules';

// The operations the model test runs, as fast-check commands. Each action sends its request to one of
// the processes, checks the answer against the model (./rules.ts) and brings the model up to date; after
// every step a synced verifier checks every Base-Token ever issued (`invariant`). Numbers in a printed
// step pick from a list modulo its length (`setMember(user 16, …)` with 3 users is user 1; `#n` counts
// the API-Tokens, Account-Tokens, temporary tokens or Base-Tokens made so far, in order).
//
// Time is order: steps follow one another in the same second unless an advanceClock step moves the
// clock, and the model says what each step ends by what happened before it, never by comparing
// seconds (Base-Tokens carry the feed position their exchange read, `gen`). Seconds count only where
// the product counts them: expiries, grace periods, the policy's maximum lifetime, created_before.
//
// Races: a Race step sends an exchange and a change at the same moment (to the two processes, in the
// two-process run). Either order is possible, so the model checks that the exchange's answer fits at
// least one order: "exchange first" (what the model says before the change) or "change first" (after
// it). A refusal fits an order that refuses; a Base-Token fits an order whose grant, `exp` and other
// claims are the ones it carries. Then the Base-Token's fate: one issued first is ended by the change
// iff the change ends what it relies on; one issued after the change is not. If only one order fits,
// that decides it; if both fit and the change ends what it relies on, the verifier's first verdict
// says which order it was (accepted: the change came first; refused: the exchange did), and from then
// on the Base-Token is held to it. So a race can never let a Base-Token that only "exchange first"
// explains survive a change that ends what it relies on, nor refuse one that only "change first"
// explains.

export interface Action {
  /** Whether the step makes sense in this state (fast-check skips it otherwise, also when shrinking). */
  applies(m: M.Model): boolean;
  /** Sends the request through process `via`. Reads the model, never changes it. */
  send(m: M.Model, r: Real, via: number): Promise<Reply>;
  /** Checks the answer against the model and brings the model up to date. */
  settle(m: M.Model, reply: Reply): void;
  toString(): string;
}

type Command = fc.AsyncCommand<M.Model, Real, false>;

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const text = (reply: Reply) => `${reply.status} ${JSON.stringify(reply.body)}`;

function isRefused(reply: Reply, what: string) {
  expect(reply.status, `${what} must be refused: ${text(reply)}`).toBeGreaterThanOrEqual(400);
  expect(reply.status, `${what}: ${text(reply)}`).toBeLessThan(500);
}
const isDone = (reply: Reply, status: number, what: string) =>
  expect(reply.status, `${what}: ${text(reply)}`).toBe(status);

const at = <T>(list: T[], n: number): number => (list.length === 0 ? -1 : n % list.length);
const indexes = <T>(list: T[], keep: (item: T, index: number) => boolean) =>
  list.flatMap((item, index) => (keep(item, index) ? [index] : []));
const uniqueName = (r: Real) => `model-${r.counter++}`;

/** The token a person acts with (their first working Account-Token); the caller checked there is one. */
const sessionOf = (m: M.Model, user: number) => m.accountTokens[M.session(m, user)]!.secret;

/** The first active admin of a base who can act (a person with a working Account-Token), or -1. */
const baseAdmin = (m: M.Model, base: number) =>
  [...m.bases[base]!.members].find(([user, role]) => role === 'admin' && M.session(m, user) !== -1)?.[0] ??
  -1;

// ---------------------------------------------------------------------------------------------------
// Exchanges

interface Issue {
  holder: number;
  base: number;
  source: M.Source;
  /** The Base-Token's `client_id`. */
  clientId: string;
}

abstract class Exchange implements Action {
  abstract applies(m: M.Model): boolean;
  abstract send(m: M.Model, r: Real, via: number): Promise<Reply>;
  /** What the model says this exchange (with what was sent) yields now. */
  abstract expect(m: M.Model, reply: Reply): M.Expected;
  abstract issue(m: M.Model, reply: Reply): Issue;
  abstract readonly status: number;
  abstract toString(): string;

  jwtOf(reply: Reply): string {
    return reply.body.base_token ?? reply.body.access_token;
  }

  /** Whether a successful answer carries exactly what `expected` says. */
  fits(m: M.Model, reply: Reply, expected: M.Expected): boolean {
    if (!expected.ok || reply.status !== this.status) return false;
    const claims = claimsOf(this.jwtOf(reply));
    const who = this.issue(m, reply);
    return (
      M.sameGrant(M.grantOfClaims(claims), expected.grant) &&
      claims.exp === expected.exp &&
      claims.iat === m.now &&
      claims.sub === m.users[who.holder]!.id &&
      claims.aud === `urn:tokenladder:base:${m.bases[who.base]!.uuid}` &&
      claims.client_id === who.clientId
    );
  }

  /** Adds the Base-Token an answer carries to the model. */
  record(m: M.Model, reply: Reply): M.BaseToken {
    const jwt = this.jwtOf(reply);
    const claims = claimsOf(jwt);
    const { holder, base, source } = this.issue(m, reply);
    const b: M.BaseToken = {
      jwt,
      jti: claims.jti,
      holder,
      base,
      source,
      grant: M.grantOfClaims(claims),
      iat: claims.iat,
      exp: claims.exp,
      ended: null,
    };
    m.baseTokens.push(b);
    return b;
  }

  settle(m: M.Model, reply: Reply) {
    const expected = this.expect(m, reply);
    if (!expected.ok) return isRefused(reply, `${this} (${expected.why})`);
    isDone(reply, this.status, `${this}`);
    const claims = claimsOf(this.jwtOf(reply));
    expect(
      this.fits(m, reply, expected),
      `${this}: claims ${JSON.stringify(claims)}, model ${JSON.stringify(expected)}`,
    ).toBe(true);
    this.record(m, reply);
  }
}

/** An API-Token for a base (its own, for a single-base token), with its current secret or an older one. */
class ExchangeApiToken extends Exchange {
  override readonly status = 201;
  constructor(
    readonly n: number,
    readonly base: number,
    readonly oldSecret: boolean,
  ) {
    super();
  }
  applies(m: M.Model) {
    return m.apiTokens.length > 0;
  }
  baseOf(m: M.Model, t: M.ApiToken) {
    return t.reach.type === 'base' ? t.reach.base : this.base % m.bases.length;
  }
  async send(m: M.Model, r: Real, via: number) {
    const target = at(m.apiTokens, this.n);
    const t = m.apiTokens[target]!;
    const secret = this.oldSecret ? (t.previous?.secret ?? t.stale.at(-1) ?? t.secret) : t.secret;
    const reply = await r.procs[via]!.call('POST', '/api/v1/base-tokens', {
      token: secret,
      body: { base_uuid: m.bases[this.baseOf(m, t)]!.uuid },
    });
    return { ...reply, sent: secret, target };
  }
  expect(m: M.Model, reply: Reply) {
    const t = m.apiTokens[reply.target!]!;
    return M.exchangeApi(m, reply.target!, this.baseOf(m, t), reply.sent!);
  }
  issue(m: M.Model, reply: Reply): Issue {
    const t = m.apiTokens[reply.target!]!;
    return {
      holder: t.owner,
      base: this.baseOf(m, t),
      source: { kind: 'api', token: reply.target!, previousSecret: reply.sent !== t.secret },
      clientId: t.id,
    };
  }
  toString() {
    return `exchangeApiToken(#${this.n}, base ${this.base}${this.oldSecret ? ', old secret' : ''})`;
  }
}

/** An Account-Token (any, revoked and expired ones too) for a base. */
class ExchangeAccountToken extends Exchange {
  override readonly status = 201;
  constructor(
    readonly n: number,
    readonly base: number,
  ) {
    super();
  }
  applies(m: M.Model) {
    return m.accountTokens.length > 0;
  }
  async send(m: M.Model, r: Real, via: number) {
    const target = at(m.accountTokens, this.n);
    const reply = await r.procs[via]!.call('POST', '/api/v1/base-tokens', {
      token: m.accountTokens[target]!.secret,
      body: { base_uuid: m.bases[this.base % m.bases.length]!.uuid },
    });
    return { ...reply, target };
  }
  expect(m: M.Model, reply: Reply) {
    return M.exchangeAccount(m, reply.target!, this.base % m.bases.length);
  }
  issue(m: M.Model, reply: Reply): Issue {
    const a = m.accountTokens[reply.target!]!;
    return {
      holder: a.user,
      base: this.base % m.bases.length,
      source: { kind: 'account', token: reply.target! },
      clientId: a.id,
    };
  }
  toString() {
    return `exchangeAccountToken(#${this.n}, base ${this.base})`;
  }
}

/** A temporary API-Token at SeaTable's app-access-token. */
class ExchangeTempToken extends Exchange {
  override readonly status = 200;
  constructor(readonly n: number) {
    super();
  }
  applies(m: M.Model) {
    return m.temps.length > 0;
  }
  async send(m: M.Model, r: Real, via: number) {
    const target = at(m.temps, this.n);
    const reply = await r.procs[via]!.call('GET', '/api/v2.1/dtable/app-access-token/', {
      token: m.temps[target]!.jwt,
    });
    return { ...reply, target };
  }
  expect(m: M.Model, reply: Reply) {
    return M.exchangeTemp(m, reply.target!);
  }
  issue(m: M.Model, reply: Reply): Issue {
    const temp = m.temps[reply.target!]!;
    return {
      holder: temp.user,
      base: temp.base,
      source: { kind: 'temp', token: reply.target! },
      clientId: temp.jti,
    };
  }
  toString() {
    return `exchangeTempToken(#${this.n})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Making tokens

type ReachKind = M.Reach['type'];

function grantBody(grant: M.GrantName) {
  return grant === 'records' ? { scopes: M.GRANTS.records } : { permission: grant };
}

/** An API-Token made by its owner (a person), or by a system admin for a service account. */
class CreateApiToken implements Action {
  constructor(
    readonly owner: number,
    readonly reach: ReachKind,
    readonly base: number,
    readonly grant: M.GrantName,
    readonly days: 1 | 30 | null,
  ) {}
  ownerOf(m: M.Model) {
    return this.owner % m.users.length;
  }
  applies(m: M.Model) {
    const owner = this.ownerOf(m);
    const user = m.users[owner]!;
    // A service account's workspace id is not listed to admins: no workspace tokens for them.
    if (user.kind === 'service') return this.reach !== 'workspace';
    return M.session(m, owner) !== -1;
  }
  reachOf(m: M.Model): M.Reach {
    const b = this.base % m.bases.length;
    if (this.reach === 'base') return { type: 'base', base: b };
    if (this.reach === 'bases') return { type: 'bases', bases: [...new Set([b, (b + 1) % m.bases.length])] };
    if (this.reach === 'workspace') return { type: 'workspace', owner: this.ownerOf(m) };
    return { type: 'all' };
  }
  async send(m: M.Model, r: Real, via: number) {
    const owner = this.ownerOf(m);
    const user = m.users[owner]!;
    const reach = this.reachOf(m);
    const body = {
      name: uniqueName(r),
      ...grantBody(this.grant),
      ...(this.days !== null && { expires_in_days: this.days }),
    };
    const resources =
      reach.type === 'base'
        ? { type: 'base', base_uuid: m.bases[reach.base]!.uuid }
        : reach.type === 'bases'
          ? { type: 'bases', base_uuids: reach.bases.map((b) => m.bases[b]!.uuid) }
          : reach.type === 'workspace'
            ? { type: 'workspace', workspace_id: user.workspaceId }
            : { type: 'all' };
    const call = r.procs[via]!.call;
    if (user.kind === 'service')
      return call('POST', `/api/v1/service-accounts/${user.id}/api-tokens`, {
        token: r.admin,
        body: { ...body, resources },
      });
    if (reach.type === 'base')
      return call('POST', `/api/v1/bases/${m.bases[reach.base]!.uuid}/api-tokens`, {
        token: sessionOf(m, owner),
        body,
      });
    return call('POST', '/api/v1/api-tokens', { token: sessionOf(m, owner), body: { ...body, resources } });
  }
  /** Why the model refuses it, or null. */
  refusal(m: M.Model): string | null {
    const owner = this.ownerOf(m);
    const reach = this.reachOf(m);
    const grant = M.GRANTS[this.grant];
    if (!m.users[owner]!.active) return 'owner deactivated';
    const expiresAt = this.days === null ? null : m.now + this.days * M.DAY;
    const policy = M.policyRefusesToMake(m, { createdAt: m.now, expiresAt, reach, owner, grant });
    if (policy) return policy;
    return M.wideningRefused(m, { reach, owner }, grant);
  }
  settle(m: M.Model, reply: Reply) {
    const refusal = this.refusal(m);
    if (refusal) return isRefused(reply, `${this} (${refusal})`);
    isDone(reply, 201, `${this}`);
    m.apiTokens.push({
      id: reply.body.id,
      name: reply.body.name,
      secret: reply.body.token,
      previous: null,
      stale: [],
      owner: this.ownerOf(m),
      reach: this.reachOf(m),
      grant: M.GRANTS[this.grant],
      enabled: true,
      deleted: false,
      expiresAt: this.days === null ? null : m.now + this.days * M.DAY,
      createdAt: m.now,
      cutOff: new Set(),
    });
  }
  toString() {
    const days = this.days === null ? '' : `, ${this.days} d`;
    return `createApiToken(user ${this.owner}, ${this.reach}, base ${this.base}, ${this.grant}${days})`;
  }
}

/** A temporary API-Token (SeaTable's), made with an Account-Token (any: refused ones too). */
class MintTempToken implements Action {
  constructor(
    readonly n: number,
    readonly base: number,
  ) {}
  applies(m: M.Model) {
    return m.accountTokens.length > 0;
  }
  async send(m: M.Model, r: Real, via: number) {
    const target = at(m.accountTokens, this.n);
    const base = m.bases[this.base % m.bases.length]!;
    const workspace = m.users[base.owner]!.workspaceId;
    const reply = await r.procs[via]!.call(
      'GET',
      `/api/v2.1/workspace/${workspace}/dtable/${base.name}/temp-api-token/`,
      { token: m.accountTokens[target]!.secret },
    );
    return { ...reply, target };
  }
  settle(m: M.Model, reply: Reply) {
    const base = this.base % m.bases.length;
    const permission = M.mintTemp(m, reply.target!, base);
    if (permission === null) return isRefused(reply, `${this}`);
    isDone(reply, 200, `${this}`);
    const claims = claimsOf(reply.body.api_token);
    expect(claims.permission, `${this}`).toBe(permission);
    expect(claims.exp, `${this}`).toBe(m.now + M.TEMP_TTL);
    m.temps.push({
      jwt: reply.body.api_token,
      jti: claims.jti,
      user: m.accountTokens[reply.target!]!.user,
      base,
      accountToken: reply.target!,
      permission,
      exp: claims.exp,
      dead: false,
    });
  }
  toString() {
    return `mintTempToken(account token #${this.n}, base ${this.base})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Managing API-Tokens: by the owner (a person who can act), else by a system admin

const liveApiTokens = (m: M.Model) => indexes(m.apiTokens, (t) => !t.deleted);

function actorFor(m: M.Model, r: Real, t: M.ApiToken, byAdmin: boolean) {
  if (!byAdmin && M.session(m, t.owner) !== -1) return { token: sessionOf(m, t.owner), owner: true };
  return { token: r.admin, owner: false };
}

abstract class ManageApiToken implements Action {
  constructor(
    readonly n: number,
    readonly byAdmin: boolean,
  ) {}
  applies(m: M.Model) {
    return liveApiTokens(m).length > 0;
  }
  target(m: M.Model) {
    const live = liveApiTokens(m);
    return live[this.n % live.length]!;
  }
  async send(m: M.Model, r: Real, via: number) {
    const target = this.target(m);
    const t = m.apiTokens[target]!;
    const actor = actorFor(m, r, t, this.byAdmin);
    const reply = await this.request(m, r, via, t, actor.token);
    // Whether the owner acted: in `sent`, for settle (the model may change in between, in a race).
    return { ...reply, target, sent: actor.owner ? 'owner' : 'admin' };
  }
  abstract request(m: M.Model, r: Real, via: number, t: M.ApiToken, token: string): Promise<Reply>;
  abstract settle(m: M.Model, reply: Reply): void;
  abstract toString(): string;
}

class SwitchApiToken extends ManageApiToken {
  constructor(
    n: number,
    byAdmin: boolean,
    readonly action: 'disable' | 'enable' | 'delete',
  ) {
    super(n, byAdmin);
  }
  request(_m: M.Model, r: Real, via: number, t: M.ApiToken, token: string) {
    const path = `/api/v1/api-tokens/${t.id}`;
    if (this.action === 'delete') return r.procs[via]!.call('DELETE', path, { token });
    return r.procs[via]!.call('PATCH', path, { token, body: { enabled: this.action === 'enable' } });
  }
  settle(m: M.Model, reply: Reply) {
    const t = m.apiTokens[reply.target!]!;
    if (this.action === 'delete') {
      isDone(reply, 204, `${this}`);
      M.endApiToken(m, reply.target!, 'API-Token deleted');
      t.deleted = true;
      return;
    }
    // Enabling a disabled token again gives it more: its owner must still be a member of its bases.
    const refusal = this.action === 'enable' && !t.enabled ? M.wideningRefused(m, t) : null;
    if (refusal) return isDone(reply, 403, `${this} (${refusal})`);
    isDone(reply, 200, `${this}`);
    if (this.action === 'disable' && t.enabled) M.endApiToken(m, reply.target!, 'API-Token disabled');
    t.enabled = this.action === 'enable';
  }
  toString() {
    return `${this.action}ApiToken(#${this.n}${this.byAdmin ? ', by admin' : ''})`;
  }
}

class RegenerateApiToken extends ManageApiToken {
  constructor(
    n: number,
    byAdmin: boolean,
    readonly grace: number,
  ) {
    super(n, byAdmin);
  }
  request(_m: M.Model, r: Real, via: number, t: M.ApiToken, token: string) {
    return r.procs[via]!.call('POST', `/api/v1/api-tokens/${t.id}/regenerate`, {
      token,
      body: this.grace > 0 ? { grace_seconds: this.grace } : {},
    });
  }
  settle(m: M.Model, reply: Reply) {
    const t = m.apiTokens[reply.target!]!;
    // Only the owner obtains a secret; system admins stand in for service accounts, which never sign in.
    if (reply.sent !== 'owner' && m.users[t.owner]!.kind === 'person')
      return isDone(reply, 403, `${this} by an admin`);
    isDone(reply, 200, `${this}`);
    if (t.previous) t.stale.push(t.previous.secret);
    if (this.grace > 0) t.previous = { secret: t.secret, until: m.now + this.grace };
    else {
      t.stale.push(t.secret);
      t.previous = null;
    }
    t.secret = reply.body.token;
    M.endApiToken(m, reply.target!, 'API-Token regenerated');
  }
  toString() {
    return `regenerateApiToken(#${this.n}, grace ${this.grace}${this.byAdmin ? ', by admin' : ''})`;
  }
}

/** PATCH of its grant: `permission` or `scopes`. */
class RegrantApiToken extends ManageApiToken {
  constructor(
    n: number,
    byAdmin: boolean,
    readonly grant: M.GrantName,
  ) {
    super(n, byAdmin);
  }
  request(_m: M.Model, r: Real, via: number, t: M.ApiToken, token: string) {
    return r.procs[via]!.call('PATCH', `/api/v1/api-tokens/${t.id}`, { token, body: grantBody(this.grant) });
  }
  refusal(m: M.Model, t: M.ApiToken): string | null {
    const grant = M.GRANTS[this.grant];
    const wider = !M.within(grant, t.grant);
    const refused = wider ? M.wideningRefused(m, t, grant) : null;
    if (refused) return refused;
    return M.policyRefusesToMake(m, { ...t, grant });
  }
  settle(m: M.Model, reply: Reply) {
    const t = m.apiTokens[reply.target!]!;
    const refusal = this.refusal(m, t);
    if (refusal) return isRefused(reply, `${this} (${refusal})`);
    isDone(reply, 200, `${this}`);
    const grant = M.GRANTS[this.grant];
    if (!M.within(t.grant, grant)) M.endApiToken(m, reply.target!, 'API-Token narrowed');
    t.grant = grant;
  }
  toString() {
    return `regrantApiToken(#${this.n}, ${this.grant}${this.byAdmin ? ', by admin' : ''})`;
  }
}

/** PATCH of its expiry: never, or that many seconds from now. */
class RedateApiToken extends ManageApiToken {
  constructor(
    n: number,
    byAdmin: boolean,
    readonly seconds: number | null,
  ) {
    super(n, byAdmin);
  }
  request(m: M.Model, r: Real, via: number, t: M.ApiToken, token: string) {
    const expiresAt = this.seconds === null ? null : iso(m.now + this.seconds);
    return r.procs[via]!.call('PATCH', `/api/v1/api-tokens/${t.id}`, {
      token,
      body: { expires_at: expiresAt },
    });
  }
  settle(m: M.Model, reply: Reply) {
    const t = m.apiTokens[reply.target!]!;
    const expiresAt = this.seconds === null ? null : m.now + this.seconds;
    const longer = t.expiresAt !== null && (expiresAt === null || expiresAt > t.expiresAt);
    const refusal =
      (longer ? M.wideningRefused(m, t) : null) ?? M.policyRefusesToMake(m, { ...t, expiresAt });
    if (refusal) return isRefused(reply, `${this} (${refusal})`);
    isDone(reply, 200, `${this}`);
    if (expiresAt !== null && (t.expiresAt === null || expiresAt < t.expiresAt))
      M.endApiToken(m, reply.target!, 'API-Token expiry brought forward');
    t.expiresAt = expiresAt;
  }
  toString() {
    return `redateApiToken(#${this.n}, ${this.seconds === null ? 'never' : `+${this.seconds} s`}${this.byAdmin ? ', by admin' : ''})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Bases and members

const rank: Record<M.Role, number> = { r: 1, rw: 2, admin: 3 };
const MAX_BASES = 4;

/** A base admin adds, changes or removes a member (a person or a service account). */
class SetMember implements Action {
  constructor(
    readonly user: number,
    readonly base: number,
    readonly role: M.Role | null,
  ) {}
  applies(m: M.Model) {
    const base = this.base % m.bases.length;
    const user = this.user % m.users.length;
    return (this.role !== null || M.roleOf(m, user, base) !== undefined) && baseAdmin(m, base) !== -1;
  }
  async send(m: M.Model, r: Real, via: number) {
    const base = m.bases[this.base % m.bases.length]!;
    const path = `/api/v1/bases/${base.uuid}/members/${m.users[this.user % m.users.length]!.id}`;
    // System admins see no base they are not a member of (404): one of its admins does it.
    const token = sessionOf(m, baseAdmin(m, this.base % m.bases.length));
    return this.role === null
      ? r.procs[via]!.call('DELETE', path, { token })
      : r.procs[via]!.call('PUT', path, { token, body: { permission: this.role } });
  }
  settle(m: M.Model, reply: Reply) {
    const base = this.base % m.bases.length;
    const user = this.user % m.users.length;
    const members = m.bases[base]!.members;
    const before = members.get(user);
    const otherAdmin = [...members].some(([u, role]) => u !== user && role === 'admin');
    if (before === 'admin' && this.role !== 'admin' && !otherAdmin)
      return isDone(reply, 409, `${this}: the last admin stays`);
    isDone(reply, this.role === null ? 204 : 200, `${this}`);
    if (before !== undefined && (this.role === null || rank[this.role] < rank[before]))
      M.endHolderOnBase(
        m,
        user,
        base,
        this.role === null ? 'holder removed from the base' : 'holder demoted',
      );
    if (this.role === null) members.delete(user);
    else members.set(user, this.role);
  }
  toString() {
    return this.role === null
      ? `removeMember(user ${this.user}, base ${this.base})`
      : `setMember(user ${this.user}, base ${this.base}, ${this.role})`;
  }
}

class CreateBase implements Action {
  constructor(readonly user: number) {}
  applies(m: M.Model) {
    return m.bases.length < MAX_BASES && M.session(m, this.user % m.users.length) !== -1;
  }
  async send(m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call('POST', '/api/v1/bases', {
      token: sessionOf(m, this.user % m.users.length),
      body: { name: `Base ${m.bases.length}` },
    });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 201, `${this}`);
    const owner = this.user % m.users.length;
    m.bases.push({
      uuid: reply.body.uuid,
      name: reply.body.name,
      owner,
      members: new Map([[owner, 'admin']]),
    });
  }
  toString() {
    return `createBase(user ${this.user})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Users, service accounts, Account-Tokens

const MAX_SERVICE_ACCOUNTS = 2;

class CreateServiceAccount implements Action {
  applies(m: M.Model) {
    return m.users.filter((u) => u.kind === 'service').length < MAX_SERVICE_ACCOUNTS;
  }
  async send(_m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call('POST', '/api/v1/service-accounts', {
      token: r.admin,
      body: { name: uniqueName(r) },
    });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 201, `${this}`);
    m.users.push({
      id: reply.body.id,
      email: reply.body.email,
      password: '',
      kind: 'service',
      active: true,
      workspaceId: '',
    });
  }
  toString() {
    return 'createServiceAccount()';
  }
}

/** A system admin deactivates or reactivates a user. */
class SetActive implements Action {
  constructor(
    readonly user: number,
    readonly active: boolean,
  ) {}
  applies(m: M.Model) {
    return m.users[this.user % m.users.length]!.active !== this.active;
  }
  async send(m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call('PATCH', `/api/v1/users/${m.users[this.user % m.users.length]!.id}`, {
      token: r.admin,
      body: { is_active: this.active },
    });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 200, `${this}`);
    const user = this.user % m.users.length;
    if (!this.active) M.endHolder(m, user, 'holder deactivated');
    m.users[user]!.active = this.active;
  }
  toString() {
    return `${this.active ? 'reactivate' : 'deactivate'}User(${this.user})`;
  }
}

/** A person signs in again: a second (third, …) Account-Token, maybe expiring in a day. */
class SignIn implements Action {
  constructor(
    readonly user: number,
    readonly days: 1 | null,
  ) {}
  applies(m: M.Model) {
    const user = m.users[this.user % m.users.length]!;
    return user.kind === 'person' && user.active;
  }
  async send(m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call('POST', '/api/v1/account-tokens', {
      body: {
        email: m.users[this.user % m.users.length]!.email,
        password: m.users[this.user % m.users.length]!.password,
        ...(this.days !== null && { expires_in_days: this.days }),
      },
    });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 201, `${this}`);
    const endsAt = this.days === null ? null : m.now + this.days * M.DAY;
    expect(reply.body.expires_at, `${this}`).toBe(endsAt === null ? null : iso(endsAt));
    m.accountTokens.push({
      id: reply.body.id,
      secret: reply.body.token,
      user: this.user % m.users.length,
      endsAt,
      revoked: false,
    });
  }
  toString() {
    return `signIn(user ${this.user}${this.days === null ? '' : `, ${this.days} d`})`;
  }
}

/** A person revokes one of their Account-Tokens (perhaps the one they call with: signing out). */
class SignOut implements Action {
  constructor(
    readonly user: number,
    readonly n: number,
  ) {}
  targets(m: M.Model) {
    const user = this.user % m.users.length;
    return indexes(m.accountTokens, (a) => a.user === user && !a.revoked);
  }
  applies(m: M.Model) {
    return M.session(m, this.user % m.users.length) !== -1 && this.targets(m).length > 0;
  }
  async send(m: M.Model, r: Real, via: number) {
    const targets = this.targets(m);
    const target = targets[this.n % targets.length]!;
    const reply = await r.procs[via]!.call(
      'DELETE',
      `/api/v1/account-tokens/${m.accountTokens[target]!.id}`,
      {
        token: sessionOf(m, this.user % m.users.length),
      },
    );
    return { ...reply, target };
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 204, `${this}`);
    M.endAccountToken(m, reply.target!, 'Account-Token revoked');
  }
  toString() {
    return `signOut(user ${this.user}, #${this.n})`;
  }
}

/** A person changes their password (keeping their other Account-Tokens, or not: by default they go). */
class ChangePassword implements Action {
  constructor(
    readonly user: number,
    readonly keepOthers: boolean,
  ) {}
  applies(m: M.Model) {
    return M.session(m, this.user % m.users.length) !== -1;
  }
  async send(m: M.Model, r: Real, via: number) {
    const user = this.user % m.users.length;
    const password = `${PASSWORD} ${r.counter++}`;
    const reply = await r.procs[via]!.call('POST', '/api/v1/me/password', {
      token: sessionOf(m, user),
      body: {
        current_password: m.users[user]!.password,
        new_password: password,
        ...(this.keepOthers && { keep_other_tokens: true }),
      },
    });
    return { ...reply, target: M.session(m, user), sent: password };
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 200, `${this}`);
    const user = this.user % m.users.length;
    m.users[user]!.password = reply.sent!;
    const others = this.keepOthers
      ? []
      : indexes(m.accountTokens, (a, i) => a.user === user && !a.revoked && i !== reply.target);
    for (const a of others) M.endAccountToken(m, a, 'password changed');
    expect(reply.body.revoked_account_tokens, `${this}`).toBe(others.length);
  }
  toString() {
    return `changePassword(user ${this.user}${this.keepOthers ? ', keeping other tokens' : ''})`;
  }
}

/** A system admin sets a user's password: every Account-Token of theirs goes (service accounts have none: 400). */
class ResetPassword implements Action {
  constructor(readonly user: number) {}
  applies() {
    return true;
  }
  async send(m: M.Model, r: Real, via: number) {
    const password = `${PASSWORD} ${r.counter++}`;
    const reply = await r.procs[via]!.call(
      'PATCH',
      `/api/v1/users/${m.users[this.user % m.users.length]!.id}`,
      {
        token: r.admin,
        body: { password },
      },
    );
    return { ...reply, sent: password };
  }
  settle(m: M.Model, reply: Reply) {
    const user = this.user % m.users.length;
    if (m.users[user]!.kind === 'service') return isDone(reply, 400, `${this}: a service account`);
    isDone(reply, 200, `${this}`);
    m.users[user]!.password = reply.sent!;
    for (const a of indexes(m.accountTokens, (a) => a.user === user && !a.revoked))
      M.endAccountToken(m, a, 'password reset by an admin');
  }
  toString() {
    return `resetPassword(user ${this.user})`;
  }
}

/** A system admin revokes every Account-Token and API-Token of a user. */
class RevokeUserTokens implements Action {
  constructor(readonly user: number) {}
  applies() {
    return true;
  }
  async send(m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call(
      'POST',
      `/api/v1/users/${m.users[this.user % m.users.length]!.id}/revoke-tokens`,
      {
        token: r.admin,
      },
    );
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 200, `${this}`);
    const user = this.user % m.users.length;
    for (const a of indexes(m.accountTokens, (a) => a.user === user && !a.revoked))
      M.endAccountToken(m, a, "all of the user's tokens revoked");
    for (const t of indexes(m.apiTokens, (t) => t.owner === user && !t.deleted)) {
      M.endApiToken(m, t, "all of the user's tokens revoked");
      m.apiTokens[t]!.deleted = true;
    }
  }
  toString() {
    return `revokeUserTokens(user ${this.user})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Incidents: the kill switch, leak reports, revoking one Base-Token; the token policy

/** The kill switch for one base, by one of its admins or a system admin, maybe only for tokens made before now. */
class KillSwitchBase implements Action {
  constructor(
    readonly base: number,
    readonly bySystemAdmin: boolean,
    readonly createdBefore: boolean,
  ) {}
  applies() {
    return true;
  }
  async send(m: M.Model, r: Real, via: number) {
    const base = this.base % m.bases.length;
    const admin = baseAdmin(m, base);
    const token = this.bySystemAdmin || admin === -1 ? r.admin : sessionOf(m, admin);
    return r.procs[via]!.call('POST', '/api/v1/kill-switch', {
      token,
      body: { base_uuid: m.bases[base]!.uuid, ...(this.createdBefore && { created_before: iso(m.now) }) },
    });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 200, `${this}`);
    const base = this.base % m.bases.length;
    let disabled = 0;
    let cut = 0;
    for (const [index, t] of m.apiTokens.entries()) {
      if (t.deleted || (this.createdBefore && t.createdAt >= m.now)) continue;
      const { reach } = t;
      if (reach.type === 'base') {
        if (reach.base !== base || !t.enabled) continue;
        t.enabled = false;
        M.endApiToken(m, index, 'API-Token disabled by the kill switch');
        disabled++;
        continue;
      }
      if (reach.type === 'bases') {
        if (!reach.bases.includes(base)) continue;
        reach.bases = reach.bases.filter((b) => b !== base);
      } else {
        const within =
          reach.type === 'workspace'
            ? m.bases[base]!.owner === reach.owner
            : M.roleOf(m, t.owner, base) !== undefined;
        if (!within || t.cutOff.has(base)) continue;
        t.cutOff.add(base);
      }
      M.endApiTokenOnBase(m, index, base, 'the kill switch took the base from the API-Token');
      cut++;
    }
    expect(reply.body, `${this}`).toEqual({ disabled, base_access_ended: cut, more: false, dry_run: false });
  }
  toString() {
    return `killSwitch(base ${this.base}${this.bySystemAdmin ? ', by system admin' : ''}${this.createdBefore ? ', created before now' : ''})`;
  }
}

/** A system admin's kill switch for every token of a user: disables them. */
class KillSwitchUser implements Action {
  constructor(readonly user: number) {}
  applies() {
    return true;
  }
  async send(m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call('POST', '/api/v1/kill-switch', {
      token: r.admin,
      body: { user_id: m.users[this.user % m.users.length]!.id },
    });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 200, `${this}`);
    const user = this.user % m.users.length;
    const hit = indexes(m.apiTokens, (t) => t.owner === user && !t.deleted && t.enabled);
    for (const index of hit) {
      m.apiTokens[index]!.enabled = false;
      M.endApiToken(m, index, 'API-Token disabled by the kill switch');
    }
    expect(reply.body, `${this}`).toEqual({
      disabled: hit.length,
      base_access_ended: 0,
      more: false,
      dry_run: false,
    });
  }
  toString() {
    return `killSwitch(user ${this.user})`;
  }
}

type PolicyChange =
  | { max_lifetime_days: number | null }
  | { forbid_all_bases_scope: boolean }
  | { service_account_max_permission: M.Level };

class SetPolicy implements Action {
  constructor(readonly change: PolicyChange) {}
  applies() {
    return true;
  }
  async send(_m: M.Model, r: Real, via: number) {
    return r.procs[via]!.call('PUT', '/api/v1/token-policy', { token: r.admin, body: this.change });
  }
  settle(m: M.Model, reply: Reply) {
    isDone(reply, 200, `${this}`);
    const before = { ...m.policy };
    const c = this.change;
    if ('max_lifetime_days' in c) m.policy.maxLifetimeDays = c.max_lifetime_days;
    if ('forbid_all_bases_scope' in c) m.policy.forbidAllBases = c.forbid_all_bases_scope;
    if ('service_account_max_permission' in c) m.policy.serviceMax = c.service_account_max_permission;
    for (const index of M.endedByPolicy(m, before)) M.endApiToken(m, index, 'a stricter token policy');
  }
  toString() {
    return `setPolicy(${JSON.stringify(this.change)})`;
  }
}

type Reported = 'api' | 'old api' | 'account' | 'base' | 'temp';

/**
 * A leak report (no credential) of one token, or (for a Base-Token or a temporary API-Token) its
 * revocation by whoever holds it.
 */
class Report implements Action {
  constructor(
    readonly what: Reported,
    readonly n: number,
    readonly asLeak: boolean,
  ) {}
  list(m: M.Model): unknown[] {
    if (this.what === 'api' || this.what === 'old api') return m.apiTokens;
    if (this.what === 'account') return m.accountTokens;
    return this.what === 'base' ? m.baseTokens : m.temps;
  }
  applies(m: M.Model) {
    return this.list(m).length > 0;
  }
  secretOf(m: M.Model, target: number): string {
    if (this.what === 'api') return m.apiTokens[target]!.secret;
    if (this.what === 'old api') {
      const t = m.apiTokens[target]!;
      return t.previous?.secret ?? t.stale.at(-1) ?? t.secret;
    }
    if (this.what === 'account') return m.accountTokens[target]!.secret;
    return this.what === 'base' ? m.baseTokens[target]!.jwt : m.temps[target]!.jwt;
  }
  async send(m: M.Model, r: Real, via: number) {
    const target = at(this.list(m), this.n);
    const secret = this.secretOf(m, target);
    const leak = this.leak();
    // 30 reports per address and hour: each report comes from an address of its own.
    const address = `10.${(r.counter >> 16) & 255}.${(r.counter >> 8) & 255}.${r.counter & 255}`;
    r.counter++;
    const reply = leak
      ? await r.procs[via]!.call('POST', '/api/v1/leaked-tokens', {
          body: { tokens: [secret] },
          headers: { 'x-test-client-ip': address },
        })
      : await r.procs[via]!.call('POST', '/api/v1/base-tokens/revoke', { body: { token: secret } });
    return { ...reply, target, sent: secret };
  }
  settle(m: M.Model, reply: Reply) {
    const leak = this.leak();
    isDone(reply, leak ? 202 : 200, `${this}`);
    const target = reply.target!;
    const why = leak ? 'reported leaked' : 'revoked by its holder';
    if (this.what === 'api' || this.what === 'old api') {
      const t = m.apiTokens[target]!;
      const live =
        reply.sent === t.secret ||
        (t.previous !== null && t.previous.secret === reply.sent && t.previous.until > m.now);
      if (t.deleted || !live) return;
      M.endApiToken(m, target, `API-Token ${why}`);
      t.deleted = true;
    } else if (this.what === 'account') {
      if (!m.accountTokens[target]!.revoked) M.endAccountToken(m, target, `Account-Token ${why}`);
    } else if (this.what === 'base') {
      // A token still valid counts, with the same clock tolerance as the verifier's (another process
      // may have signed it a little ahead); a token past that is refused everywhere anyway.
      const b = m.baseTokens[target]!;
      if (m.now < b.exp + M.TOLERANCE) M.endBaseToken(b, `Base-Token ${why}`);
    } else {
      const temp = m.temps[target]!;
      if (m.now < temp.exp + M.TOLERANCE) M.endTemp(m, target, `temporary API-Token ${why}`);
    }
  }
  /** Opaque tokens only through a leak report; signed ones through either way. */
  leak() {
    return this.asLeak || this.what === 'api' || this.what === 'old api' || this.what === 'account';
  }
  toString() {
    return `${this.leak() ? 'reportLeaked' : 'revoke'}(${this.what} #${this.n})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Steps: one action, a race, the clock

/** After every step: every Base-Token ever issued, checked by a verifier that has read the feed. */
export async function invariant(m: M.Model, r: Real) {
  expect(Math.floor(r.clock.now() / 1000), 'the model keeps time with the app').toBe(m.now);
  await r.verifier.revocations.sync();
  for (const [i, b] of m.baseTokens.entries()) {
    if (b.past) continue;
    const verdict = await r.verifier.check(b.jwt, m.bases[b.base]!.uuid);
    r.stats.checks++;
    const what = `Base-Token #${i} (user ${b.holder}, base ${b.base}, ${describeSource(b.source)}, iat ${b.iat}, exp ${b.exp}) at ${m.now}`;
    if (b.undecided !== undefined) {
      // A race's Base-Token either verdict fits: the verifier's first one holds from now on.
      expect(['accepted', 'token_revoked'], `${what}, ${b.undecided}`).toContain(verdict);
      if (verdict === 'token_revoked') b.ended = b.undecided;
      b.undecided = undefined;
    }
    const expected = M.accepted(m, b);
    if (expected === 'either') {
      expect(['accepted', 'token_revoked'], `${what}, ${b.ended} after its exp`).toContain(verdict);
    } else if (expected) {
      expect(verdict, what).toBe('accepted');
      r.stats.accepted++;
      const allowed = M.allowedNow(m, b);
      expect(allowed, `${what}: accepted, but its source grants nothing now`).not.toBeNull();
      expect(M.within(b.grant, allowed!), `${what}: grants more than its source does now`).toBe(true);
    } else {
      expect(['token_revoked', 'token_expired'], `${what}, ${b.ended ?? 'expired'}: ${verdict}`).toContain(
        verdict,
      );
      if (b.ended !== null) r.stats.ended++;
      if (m.now >= b.exp + M.TOLERANCE) b.past = true;
    }
  }
}

function describeSource(source: M.Source) {
  if (source.kind === 'api')
    return `API-Token #${source.token}${source.previousSecret ? ' (old secret)' : ''}`;
  return `${source.kind === 'account' ? 'Account-Token' : 'temporary API-Token'} #${source.token}`;
}

const processName = (processes: number, via: number) => (processes > 1 ? `@${'AB'[via]}` : '');

class Step implements Command {
  constructor(
    readonly action: Action,
    readonly via: number,
    readonly processes: number,
  ) {}
  check(m: M.Model) {
    return M.onProcess(m, this.via % m.offsets.length, () => this.action.applies(m));
  }
  async run(m: M.Model, r: Real) {
    r.stats.steps++;
    if (this.action instanceof Exchange) r.stats.exchanges++;
    const via = this.via % r.procs.length;
    // Every action reads the model before its first await: sent on `via`'s clock.
    const reply = await M.onProcess(m, via, () => this.action.send(m, r, via));
    r.trace.push(`${this} → ${reply.status}`);
    M.onProcess(m, via, () => this.action.settle(m, reply));
    await invariant(m, r);
  }
  toString() {
    return `${this.action}${processName(this.processes, this.via)}`;
  }
}

/** An exchange and a change sent at once (to both processes when there are two); see the header. */
class Race implements Command {
  constructor(
    readonly exchange: Exchange,
    readonly change: Action,
    readonly via: number,
    readonly processes: number,
  ) {}
  check(m: M.Model) {
    const { viaExchange, viaChange } = this.vias(m.offsets.length);
    return (
      M.onProcess(m, viaExchange, () => this.exchange.applies(m)) &&
      M.onProcess(m, viaChange, () => this.change.applies(m))
    );
  }
  vias(processes: number) {
    return { viaExchange: this.via % processes, viaChange: (this.via + 1) % processes };
  }
  async run(m: M.Model, r: Real) {
    r.stats.steps++;
    r.stats.races++;
    r.stats.exchanges++;
    const { viaExchange, viaChange } = this.vias(r.procs.length);
    const onExchange = <T>(fn: () => T) => M.onProcess(m, viaExchange, fn);
    const [e, c] = await Promise.all([
      onExchange(() => this.exchange.send(m, r, viaExchange)),
      M.onProcess(m, viaChange, () => this.change.send(m, r, viaChange)),
    ]);
    r.trace.push(`${this} → ${e.status} ‖ ${c.status}`);
    const before = onExchange(() => this.exchange.expect(m, e));
    // "Exchange first": its Base-Token exists when the change happens. Does the change end it?
    let reliedOn = false;
    const probe: M.BaseToken | null = before.ok
      ? {
          ...onExchange(() => this.exchange.issue(m, e)),
          jwt: '',
          jti: '',
          grant: before.grant,
          iat: onExchange(() => m.now),
          exp: before.exp,
          ended: null,
        }
      : null;
    if (probe) m.baseTokens.push(probe);
    M.onProcess(m, viaChange, () => this.change.settle(m, c));
    if (probe) {
      m.baseTokens.splice(m.baseTokens.indexOf(probe), 1);
      reliedOn = probe.ended !== null;
    }
    const after = onExchange(() => this.exchange.expect(m, e));
    if (e.status >= 400) {
      expect(before.ok && after.ok, `${this}: refused, though either order allows it: ${text(e)}`).toBe(
        false,
      );
      isRefused(e, `${this}`);
    } else {
      const exchangeFirst = before.ok && onExchange(() => this.exchange.fits(m, e, before));
      const changeFirst = after.ok && onExchange(() => this.exchange.fits(m, e, after));
      expect(
        exchangeFirst || changeFirst,
        `${this}: ${text(e)} fits neither order (before: ${JSON.stringify(before)}, after: ${JSON.stringify(after)})`,
      ).toBe(true);
      const b = onExchange(() => this.exchange.record(m, e));
      if (reliedOn) {
        if (exchangeFirst && changeFirst) b.undecided = 'exchanged just before a change that ends it (race)';
        else if (exchangeFirst) b.ended = 'exchanged just before a change that ends it (race)';
      }
    }
    await invariant(m, r);
  }
  toString() {
    return `race(${this.exchange}${processName(this.processes, this.via % this.processes)} ‖ ${this.change}${processName(this.processes, (this.via + 1) % this.processes)})`;
  }
}

class AdvanceClock implements Command {
  constructor(readonly seconds: number) {}
  check() {
    return true;
  }
  async run(m: M.Model, r: Real) {
    r.stats.steps++;
    r.clock.advance(this.seconds);
    r.trace.push(`${this}`);
    m.now += this.seconds;
    await invariant(m, r);
  }
  toString() {
    return `advanceClock(${this.seconds})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// What to generate

const n = fc.nat(1000);
const bool = fc.boolean();
const grant = fc.constantFrom<M.GrantName>('r', 'rw', 'records');

const exchanges: fc.Arbitrary<Exchange> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(n, n, fc.boolean()).map(([t, b, old]) => new ExchangeApiToken(t, b, old)),
  },
  { weight: 2, arbitrary: fc.tuple(n, n).map(([a, b]) => new ExchangeAccountToken(a, b)) },
  { weight: 2, arbitrary: n.map((t) => new ExchangeTempToken(t)) },
);

/** Every change, the ones that take something away and the ones that give. */
const changes: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(n, bool, fc.constantFrom('disable' as const, 'enable' as const, 'delete' as const))
      .map(([t, admin, action]) => new SwitchApiToken(t, admin, action)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(n, bool, fc.constantFrom(0, 0, 60, 600))
      .map(([t, admin, grace]) => new RegenerateApiToken(t, admin, grace)),
  },
  { weight: 2, arbitrary: fc.tuple(n, bool, grant).map(([t, admin, g]) => new RegrantApiToken(t, admin, g)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(n, bool, fc.constantFrom(null, 600, 2 * M.DAY, 30 * M.DAY))
      .map(([t, admin, seconds]) => new RedateApiToken(t, admin, seconds)),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(n, n, fc.constantFrom<M.Role | null>('r', 'rw', 'admin', null))
      .map(([u, b, role]) => new SetMember(u, b, role)),
  },
  { weight: 2, arbitrary: fc.tuple(n, bool).map(([u, active]) => new SetActive(u, active)) },
  { weight: 2, arbitrary: fc.tuple(n, fc.constantFrom(1 as const, null)).map(([u, d]) => new SignIn(u, d)) },
  { weight: 2, arbitrary: fc.tuple(n, n).map(([u, a]) => new SignOut(u, a)) },
  { weight: 1, arbitrary: n.map((u) => new RevokeUserTokens(u)) },
  { weight: 1, arbitrary: fc.tuple(n, bool).map(([u, keep]) => new ChangePassword(u, keep)) },
  { weight: 1, arbitrary: n.map((u) => new ResetPassword(u)) },
  {
    weight: 2,
    arbitrary: fc.tuple(n, bool, bool).map(([b, sys, before]) => new KillSwitchBase(b, sys, before)),
  },
  { weight: 1, arbitrary: n.map((u) => new KillSwitchUser(u)) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(null, 1, 5).map((days) => ({ max_lifetime_days: days })),
        bool.map((forbid) => ({ forbid_all_bases_scope: forbid })),
        fc.constantFrom<M.Level>('r', 'rw').map((level) => ({ service_account_max_permission: level })),
      )
      .map((change) => new SetPolicy(change)),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom<Reported>('api', 'old api', 'account', 'base', 'temp'), n, bool)
      .map(([what, i, leak]) => new Report(what, i, leak)),
  },
);

/** Everything that makes something new. */
const makers: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        n,
        fc.constantFrom<ReachKind>('base', 'base', 'bases', 'workspace', 'all'),
        n,
        grant,
        fc.constantFrom(null, null, 1 as const, 30 as const),
      )
      .map(([u, reach, b, g, days]) => new CreateApiToken(u, reach, b, g, days)),
  },
  { weight: 3, arbitrary: fc.tuple(n, n).map(([a, b]) => new MintTempToken(a, b)) },
  { weight: 1, arbitrary: n.map((u) => new CreateBase(u)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new CreateServiceAccount()) },
);

/** The step arbitrary for a run with this many processes. */
export function steps(processes: number): fc.Arbitrary<Command>[] {
  const via = fc.nat(processes - 1);
  return [
    fc.oneof(
      { weight: 8, arbitrary: fc.tuple(makers, via).map(([a, v]) => new Step(a, v, processes)) },
      { weight: 9, arbitrary: fc.tuple(exchanges, via).map(([a, v]) => new Step(a, v, processes)) },
      { weight: 10, arbitrary: fc.tuple(changes, via).map(([a, v]) => new Step(a, v, processes)) },
      {
        weight: processes > 1 ? 6 : 3,
        arbitrary: fc.tuple(exchanges, changes, via).map(([e, c, v]) => new Race(e, c, v, processes)),
      },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 120 }).map((s) => new AdvanceClock(s)) },
      // Now and then far enough for temporary tokens, grace periods and Base-Tokens to end.
      { weight: 1, arbitrary: fc.integer({ min: 1800, max: 2 * M.DAY }).map((s) => new AdvanceClock(s)) },
    ),
  ];
}
