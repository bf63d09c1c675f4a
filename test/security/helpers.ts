// Shared fixtures for the adversarial suite (test/security): one populated world, a state digest that
// ignores what an authenticated request may legitimately touch, and the "rejected, nothing changed" check.
import { expect } from 'vitest';
import type { AppConfig } from '../../src/config';
import { AppError } from '../../src/errors';
import { mintOpaqueToken, parseOpaqueToken, type OpaqueKind } from '../../src/tokens/opaque';
import { testApp, type CallOptions, type CallResult, type TestApp } from '../helpers/app';
import { LAST_USED_COLUMNS } from '../helpers/db-digest';
import { errorBody } from '../helpers/errors';

/**
 * Config for every security test app. Login throttling (`loginThrottle`, being added by the lead)
 * must be relaxed here once it lands: the suite signs in a few dozen times from one "client".
 */
export const SECURITY_CONFIG: Partial<AppConfig> = {};

/**
 * Digest of every row of every table but the catalog's allowed side-effect tables of a refusal (audit
 * records of the failure, throttling counters: expectRejected checks the audit rows it adds are failures),
 * without the `last_used_at` columns an accepted authentication may write before a 403, 404 or 409.
 */
export const stateSnapshot = (t: Pick<TestApp, 'digest'>): Promise<string> =>
  t.digest({ ignoreColumns: LAST_USED_COLUMNS });

export interface User {
  id: string;
  email: string;
  token: string;
}

/**
 * A populated instance:
 * - `admin` system admin; `alice` owns bases A and B (admin on both); `bob` is an `r` member of A,
 *   `rita` an `rw` member of A; `carol` belongs to no base;
 * - teams T1 (team admin `tina`, member `tom`) and T2 (team admin `tess`, member `tara`);
 * - API-Tokens: `aliceRw` (rw on A), `bobR` (r on A), `aliceB` (rw on B).
 */
export async function world(config: Partial<AppConfig> = {}, file?: string) {
  const t = await testApp({ config: { ...SECURITY_CONFIG, ...config }, ...(file ? { file } : {}) });
  const adminToken = await t.login();
  const me = await t.call('GET', '/api/v1/me', { token: adminToken });
  const admin: User = { id: me.body.id, email: me.body.email, token: adminToken };
  const user = async (email: string, extra: Record<string, unknown> = {}): Promise<User> => ({
    email,
    ...(await t.userWithToken(adminToken, email, extra)),
  });
  const team = async (name: string): Promise<string> => {
    const created = await t.call('POST', '/api/v1/teams', { token: adminToken, body: { name } });
    if (created.status !== 201) throw new Error(`team create failed: ${JSON.stringify(created.body)}`);
    return created.body.id;
  };
  const alice = await user('alice@example.com');
  const bob = await user('bob@example.com');
  const rita = await user('rita@example.com');
  const carol = await user('carol@example.com');
  const t1 = await team('T1');
  const t2 = await team('T2');
  const tina = await user('tina@example.com', { role: 'team_admin', team_id: t1 });
  const tom = await user('tom@example.com', { team_id: t1 });
  const tess = await user('tess@example.com', { role: 'team_admin', team_id: t2 });
  const tara = await user('tara@example.com', { team_id: t2 });
  const baseA = await t.createBase(alice.token, 'A');
  const baseB = await t.createBase(alice.token, 'B');
  const taraBase = await t.createBase(tara.token, 'T2 base');
  const member = async (base: string, who: User, permission: 'r' | 'rw' | 'admin') => {
    const response = await t.call('PUT', `/api/v1/bases/${base}/members/${who.id}`, {
      token: alice.token,
      body: { permission },
    });
    if (response.status >= 300) throw new Error(`member failed: ${JSON.stringify(response.body)}`);
  };
  await member(baseA, bob, 'r');
  await member(baseA, rita, 'rw');
  const aliceRw = await t.createApiToken(alice.token, baseA, 'alice-rw', 'rw');
  const bobR = await t.createApiToken(bob.token, baseA, 'bob-r', 'r');
  const aliceB = await t.createApiToken(alice.token, baseB, 'alice-b', 'rw');
  const taraToken = await t.createApiToken(tara.token, taraBase, 'tara', 'rw');
  const exchanged = await t.call('POST', '/api/v1/base-tokens', { token: aliceRw.token });
  if (exchanged.status !== 201) throw new Error(`exchange failed: ${JSON.stringify(exchanged.body)}`);
  const baseTokenA: string = exchanged.body.base_token;
  const workspaceOf = async (who: User): Promise<string> =>
    (await t.call('GET', '/api/v1/workspaces', { token: who.token })).body.workspaces?.[0]?.id;
  return {
    t,
    admin,
    alice,
    bob,
    rita,
    carol,
    tina,
    tom,
    tess,
    tara,
    teams: { t1, t2 },
    baseA,
    baseB,
    taraBase,
    tokens: { aliceRw, bobR, aliceB, taraToken },
    baseTokenA,
    user,
    member,
    workspaceOf,
  };
}

export type World = Awaited<ReturnType<typeof world>>;

/** The native error body: exactly `{error: {code, message, request_id}}`. */
export function expectErrorBody(response: CallResult, status: number, code: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body).toEqual(errorBody(code));
}

/** Highest audit sequence number so far (0 without an audit table). On either store, through Kysely. */
async function auditMark(t: TestApp): Promise<number> {
  const row = await t.deps.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.max('seq').as('n'))
    .executeTakeFirst()
    .catch(() => undefined);
  return row?.n ?? 0;
}

/** A refusal may record its failure in the audit log, never a success. */
async function expectOnlyFailuresAudited(t: TestApp, since: number) {
  const added = await t.deps.db
    .selectFrom('audit_events')
    .select(['action', 'outcome'])
    .where('seq', '>', since)
    .execute()
    .catch(() => []);
  expect(
    added.filter((row) => row.outcome !== 'failure'),
    'a refused request audited a success',
  ).toEqual([]);
}

/** A response body with the per-request id taken out, for byte-identity comparisons. */
export const withoutRequestId = (text: string) => text.replace(/"request_id":"[^"]*"/g, '"request_id":"…"');

/**
 * Runs `request` and asserts it is refused with `status`/`code` in the native error shape and
 * that the database is unchanged (volatile `last_used_at` columns aside).
 */
export async function expectRejected(
  t: TestApp,
  request: () => Promise<CallResult>,
  status: number,
  code: string,
): Promise<CallResult> {
  const before = await stateSnapshot(t);
  const mark = await auditMark(t);
  const response = await request();
  expectErrorBody(response, status, code);
  expect(await stateSnapshot(t), 'a rejected request changed the database').toBe(before);
  await expectOnlyFailuresAudited(t, mark);
  return response;
}

/** `t.call` with a raw Authorization header value (for scheme and shape attacks). */
export function callWith(
  t: TestApp,
  method: string,
  path: string,
  authorization: string | undefined,
  options: CallOptions = {},
) {
  return t.call(method, path, {
    ...options,
    headers: { ...options.headers, ...(authorization === undefined ? {} : { authorization }) },
  });
}

/** A case of an attack table: what to send and how it must be refused. */
export interface AttackCase<W = World> {
  id: string;
  name: string;
  /** Runs before the state snapshot (e.g. disables the token under attack). */
  setup?: (w: W) => Promise<unknown>;
  request: (w: W, prepared: unknown) => Promise<CallResult>;
  status: number;
  code: string;
  /** Extra assertions after the refusal (e.g. the victim's token still works). */
  after?: (w: W, prepared: unknown) => Promise<void>;
}

/** Runs one case: setup, snapshot, request, refusal in the native shape, unchanged state, then `after`. */
export async function runAttack<W extends { t: TestApp }>(w: W, attack: AttackCase<W>) {
  const prepared = attack.setup ? await attack.setup(w) : undefined;
  await expectRejected(w.t, () => attack.request(w, prepared), attack.status, attack.code);
  await attack.after?.(w, prepared);
}

/** Base-Token → its claims (unverified; for assertions on tokens the service issued). */
export const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

/** A well-formed token of `kind` with a valid checksum that nobody issued. */
export async function unknownToken(kind: OpaqueKind): Promise<string> {
  return (await mintOpaqueToken(kind)).token;
}

/** The same id as `token` with another secret (and a valid checksum): "right id, wrong secret". */
export async function sameIdOtherSecret(token: string): Promise<string> {
  const parsed = parseOpaqueToken(token);
  if (!parsed) throw new Error('not an opaque token');
  return (await mintOpaqueToken(parsed.kind, parsed.id)).token;
}

/** `token` with its last checksum character changed. */
export const badChecksum = (token: string): string => token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a');

/**
 * The SeaTable-compatible routes answer in SeaTable's shapes (`{detail}`, `{error_msg}`, …):
 * asserts status and body exactly, and that the database is unchanged.
 */
export async function expectSeatableRejected(
  t: TestApp,
  request: () => Promise<CallResult>,
  status: number,
  body: unknown,
): Promise<CallResult> {
  const before = await stateSnapshot(t);
  const mark = await auditMark(t);
  const response = await request();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body).toEqual(body);
  expect(await stateSnapshot(t), 'a rejected request changed the database').toBe(before);
  await expectOnlyFailuresAudited(t, mark);
  return response;
}

export const SEATABLE_INVALID_TOKEN = { detail: 'Invalid token' };

/** Rejects with an AppError of `code` (domain-level assertion for routes whose HTTP shape hides the code). */
export async function expectAppError(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}
