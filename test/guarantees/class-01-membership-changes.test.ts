import { describe, expect, it } from 'vitest';
import { createRevocationList } from '../../src/verify';
import { testApp } from '../helpers/app';
import { feedVerifier } from '../helpers/feed-verifier';
import { dbDigest } from '../helpers/db-digest';

// Issue 13, class 1: every change that reduces what a user may do on a base reaches verifiers through
// the feed, in the same write as the change: their Base-Tokens issued before it (from API-Tokens and
// from Account-Tokens) are refused, and one exchanged after it carries only what is left. Changes that
// reduce nothing (a promotion, a new member, a role or team that grants no base access) revoke nothing.

const permissionOf = (jwt: string): string =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).permission;

async function world(memberPermission: 'r' | 'rw' | 'admin') {
  const t = await testApp();
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const bob = await t.userWithToken(admin, 'bob@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  const other = await t.createBase(alice.token, 'Other');
  for (const uuid of [base, other]) {
    const added = await t.call('PUT', `/api/v1/bases/${uuid}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: memberPermission },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
  }
  const apiToken = await t.createApiToken(bob.token, base, 'bob-integration', 'rw');
  const exchange = async (credential: string, baseUuid = base) =>
    t.call('POST', '/api/v1/base-tokens', { token: credential, body: { base_uuid: baseUuid } });
  const baseToken = async (credential: string, baseUuid = base) => {
    const exchanged = await exchange(credential, baseUuid);
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(201);
    return exchanged.body.base_token as string;
  };
  const feedCursor = async () => (await t.call('GET', '/api/v1/revocations')).body.cursor as string;
  return {
    t,
    admin,
    alice,
    bob,
    base,
    other,
    apiToken,
    exchange,
    baseToken,
    feedCursor,
    check: feedVerifier(t).checkSynced,
  };
}

type World = Awaited<ReturnType<typeof world>>;

/** Base-Tokens of bob from his API-Token and his Account-Token on the base, alice's, and bob's on the other base. */
async function issued(w: World) {
  const tokens = {
    fromApi: await w.baseToken(w.apiToken.token),
    fromAccount: await w.baseToken(w.bob.token),
    alices: await w.baseToken(w.alice.token),
    bobsOtherBase: await w.baseToken(w.bob.token, w.other),
  };
  for (const jwt of [tokens.fromApi, tokens.fromAccount, tokens.alices])
    expect(await w.check(jwt, w.base)).toBe('accepted');
  expect(await w.check(tokens.bobsOtherBase, w.other)).toBe('accepted');
  // The change happens in a later second than the exchanges (the same-second bound is class 2's).
  w.t.clock.advance(1);
  return tokens;
}

/** What is left untouched by a change to bob's access on `base`: alice's token, bob's on the other base. */
async function othersUntouched(w: World, tokens: Awaited<ReturnType<typeof issued>>) {
  expect(await w.check(tokens.alices, w.base)).toBe('accepted');
  expect(await w.check(tokens.bobsOtherBase, w.other)).toBe('accepted');
}

describe('class 01: Membership changes never reach verifiers', () => {
  it('a member removed from a base: their Base-Tokens for it are refused, new exchanges too', async () => {
    const w = await world('rw');
    const tokens = await issued(w);
    const removed = await w.t.call('DELETE', `/api/v1/bases/${w.base}/members/${w.bob.id}`, {
      token: w.alice.token,
    });
    expect(removed.status).toBe(204);
    expect(await w.check(tokens.fromApi, w.base)).toBe('token_revoked');
    expect(await w.check(tokens.fromAccount, w.base)).toBe('token_revoked');
    await othersUntouched(w, tokens);
    const digest = dbDigest(w.t.raw, { ignoreColumns: ['last_used_at'] });
    expect((await w.exchange(w.apiToken.token)).status).toBe(403);
    expect((await w.exchange(w.bob.token)).status).toBe(404);
    expect(dbDigest(w.t.raw, { ignoreColumns: ['last_used_at'] })).toBe(digest);
  });

  it.each([
    ['admin', 'rw', 'rw'],
    ['rw', 'r', 'r'],
    ['admin', 'r', 'r'],
  ] as const)(
    'a member demoted %s → %s: Base-Tokens issued before are refused, new ones carry %s',
    async (from, to, after) => {
      const w = await world(from);
      const tokens = await issued(w);
      expect(permissionOf(tokens.fromAccount)).toBe(from);
      const demoted = await w.t.call('PUT', `/api/v1/bases/${w.base}/members/${w.bob.id}`, {
        token: w.alice.token,
        body: { permission: to },
      });
      expect(demoted.status).toBe(200);
      expect(await w.check(tokens.fromApi, w.base)).toBe('token_revoked');
      expect(await w.check(tokens.fromAccount, w.base)).toBe('token_revoked');
      await othersUntouched(w, tokens);
      // Exchanged after the change: accepted, with only what is left.
      w.t.clock.advance(1);
      const account = await w.baseToken(w.bob.token);
      const api = await w.baseToken(w.apiToken.token);
      expect(permissionOf(account)).toBe(after);
      expect(permissionOf(api)).toBe(after === 'r' ? 'r' : 'rw');
      expect(await w.check(account, w.base)).toBe('accepted');
      expect(await w.check(api, w.base)).toBe('accepted');
    },
  );

  it.each([
    ['demoting', 'PUT', { permission: 'rw' }],
    ['removing', 'DELETE', undefined],
  ] as const)('%s the last admin is refused and publishes nothing', async (_what, method, body) => {
    const w = await world('rw');
    const alices = await w.baseToken(w.alice.token);
    w.t.clock.advance(1);
    const digest = dbDigest(w.t.raw);
    const refused = await w.t.call(method, `/api/v1/bases/${w.base}/members/${w.alice.id}`, {
      token: w.alice.token,
      body,
    });
    expect(refused.status).toBe(409);
    expect(dbDigest(w.t.raw)).toBe(digest);
    expect(await w.check(alices, w.base)).toBe('accepted');
  });

  it('a user deactivated: every Base-Token of theirs is refused, new exchanges too', async () => {
    const w = await world('rw');
    const tokens = await issued(w);
    const deactivated = await w.t.call('PATCH', `/api/v1/users/${w.bob.id}`, {
      token: w.admin,
      body: { is_active: false },
    });
    expect(deactivated.status).toBe(200);
    expect(await w.check(tokens.fromApi, w.base)).toBe('token_revoked');
    expect(await w.check(tokens.fromAccount, w.base)).toBe('token_revoked');
    expect(await w.check(tokens.bobsOtherBase, w.other)).toBe('token_revoked');
    expect(await w.check(tokens.alices, w.base)).toBe('accepted');
    const digest = dbDigest(w.t.raw);
    expect((await w.exchange(w.apiToken.token)).status).toBe(401);
    expect((await w.exchange(w.bob.token)).status).toBe(401);
    expect(dbDigest(w.t.raw)).toBe(digest);
  });

  it('an API-Token narrowed by PATCH (permission, scopes, an earlier expiry): its Base-Tokens are refused, new ones carry what is left', async () => {
    const w = await world('rw');
    const scoped = await w.t.call('POST', `/api/v1/bases/${w.base}/api-tokens`, {
      token: w.bob.token,
      body: { name: 'scoped', scopes: { records: 'rw', comments: 'rw' } },
    });
    expect(scoped.status).toBe(201);
    const dated = await w.t.createApiToken(w.bob.token, w.base, 'dated', 'r');
    const tokens = await issued(w);
    const fromScoped = await w.baseToken(scoped.body.token);
    const fromDated = await w.baseToken(dated.token);
    const fromAccount = tokens.fromAccount;
    w.t.clock.advance(1);

    const patch = (id: string, body: unknown) =>
      w.t.call('PATCH', `/api/v1/api-tokens/${id}`, { token: w.bob.token, body });
    expect((await patch(w.apiToken.id, { permission: 'r' })).status).toBe(200);
    expect((await patch(scoped.body.id, { scopes: { records: 'r' } })).status).toBe(200);
    expect((await patch(dated.id, { expires_in_days: 1 })).status).toBe(200);
    expect(await w.check(tokens.fromApi, w.base)).toBe('token_revoked');
    expect(await w.check(fromScoped, w.base)).toBe('token_revoked');
    expect(await w.check(fromDated, w.base)).toBe('token_revoked');
    // Only those tokens: bob's own Account-Token keeps its Base-Tokens.
    expect(await w.check(fromAccount, w.base)).toBe('accepted');
    await othersUntouched(w, tokens);
    w.t.clock.advance(1);
    const after = await w.baseToken(w.apiToken.token);
    expect(permissionOf(after)).toBe('r');
    expect(await w.check(after, w.base)).toBe('accepted');
    const afterScoped = await w.baseToken(scoped.body.token);
    expect(JSON.parse(Buffer.from(afterScoped.split('.')[1]!, 'base64url').toString()).scp.c).toEqual({
      records: 'r',
    });
    expect(await w.check(afterScoped, w.base)).toBe('accepted');
    const afterDated = await w.baseToken(dated.token);
    expect(
      JSON.parse(Buffer.from(afterDated.split('.')[1]!, 'base64url').toString()).exp,
    ).toBeLessThanOrEqual(Math.floor(w.t.clock.now() / 1000) + 86400);
  });

  it('a service-account cap lowered to r: Base-Tokens of its rw API-Tokens are refused, and they exchange no more', async () => {
    const w = await world('rw');
    const service = await w.t.call('POST', '/api/v1/service-accounts', {
      token: w.admin,
      body: { name: 'sync-bot' },
    });
    expect(service.status).toBe(201);
    for (const permission of ['rw'] as const)
      expect(
        (
          await w.t.call('PUT', `/api/v1/bases/${w.base}/members/${service.body.id}`, {
            token: w.alice.token,
            body: { permission },
          })
        ).status,
      ).toBe(200);
    const mint = async (name: string, permission: 'r' | 'rw') => {
      const created = await w.t.call('POST', `/api/v1/service-accounts/${service.body.id}/api-tokens`, {
        token: w.admin,
        body: { name, permission, resources: { type: 'base', base_uuid: w.base } },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body as { id: string; token: string };
    };
    const writer = await mint('writer', 'rw');
    const reader = await mint('reader', 'r');
    const tokens = await issued(w);
    const fromWriter = await w.baseToken(writer.token);
    const fromReader = await w.baseToken(reader.token);
    w.t.clock.advance(1);
    const capped = await w.t.call('PUT', '/api/v1/token-policy', {
      token: w.admin,
      body: { service_account_max_permission: 'r' },
    });
    expect(capped.status).toBe(200);
    expect(await w.check(fromWriter, w.base)).toBe('token_revoked');
    expect(await w.check(fromReader, w.base)).toBe('accepted');
    expect(await w.check(tokens.fromApi, w.base)).toBe('accepted');
    const digest = dbDigest(w.t.raw);
    expect((await w.exchange(writer.token)).status).toBe(403);
    expect(dbDigest(w.t.raw)).toBe(digest);
  });

  it('a token policy made stricter (all-bases forbidden, a shorter maximum lifetime): Base-Tokens of the tokens it ends are refused', async () => {
    const w = await world('rw');
    const all = await w.t.call('POST', '/api/v1/api-tokens', {
      token: w.bob.token,
      body: { name: 'everything', permission: 'rw', resources: { type: 'all' } },
    });
    expect(all.status).toBe(201);
    const tokens = await issued(w);
    const fromAll = await w.baseToken(all.body.token);
    w.t.clock.advance(1);
    const forbid = await w.t.call('PUT', '/api/v1/token-policy', {
      token: w.admin,
      body: { forbid_all_bases_scope: true },
    });
    expect(forbid.status).toBe(200);
    expect(await w.check(fromAll, w.base)).toBe('token_revoked');
    expect(await w.check(tokens.fromApi, w.base)).toBe('accepted');
    expect(await w.check(tokens.fromAccount, w.base)).toBe('accepted');
    expect((await w.exchange(all.body.token)).status).toBe(403);

    // Ten days on, a 7-day maximum lifetime: bob's API-Token (made at the start) is too old now.
    w.t.clock.advance(10 * 86400);
    const fresh = await w.baseToken(w.apiToken.token);
    const session = await w.baseToken(w.bob.token);
    w.t.clock.advance(1);
    const shorter = await w.t.call('PUT', '/api/v1/token-policy', {
      token: w.admin,
      body: { max_lifetime_days: 7 },
    });
    expect(shorter.status).toBe(200);
    expect(await w.check(fresh, w.base)).toBe('token_revoked');
    expect(await w.check(session, w.base)).toBe('accepted');
    const digest = dbDigest(w.t.raw);
    expect((await w.exchange(w.apiToken.token)).status).toBe(401);
    expect(dbDigest(w.t.raw)).toBe(digest);
  });

  it.each([
    ['a promotion (rw → admin)', 'PUT', 'member', { permission: 'admin' }],
    ['the same permission again', 'PUT', 'member', { permission: 'rw' }],
    ['a role change (user → team admin)', 'PATCH', 'user', { role: 'team_admin', team_id: 'TEAM' }],
    ['a team move', 'PATCH', 'user', { team_id: 'TEAM' }],
    ['a rename', 'PATCH', 'user', { name: 'Robert' }],
  ] as const)('%s revokes nothing', async (_what, method, target, body) => {
    const w = await world('rw');
    const team = await w.t.call('POST', '/api/v1/teams', { token: w.admin, body: { name: 'Blue' } });
    expect(team.status).toBe(201);
    const tokens = await issued(w);
    const cursor = await w.feedCursor();
    const resolved = JSON.parse(JSON.stringify(body).replace('TEAM', team.body.id));
    const path =
      target === 'member' ? `/api/v1/bases/${w.base}/members/${w.bob.id}` : `/api/v1/users/${w.bob.id}`;
    const changed = await w.t.call(method, path, {
      token: target === 'member' ? w.alice.token : w.admin,
      body: resolved,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(await w.feedCursor()).toBe(cursor);
    expect(await w.check(tokens.fromApi, w.base)).toBe('accepted');
    expect(await w.check(tokens.fromAccount, w.base)).toBe('accepted');
  });

  it('a role demotion or a team move grants no base access, so there is nothing to end', async () => {
    const w = await world('rw');
    const team = await w.t.call('POST', '/api/v1/teams', { token: w.admin, body: { name: 'Blue' } });
    const promote = await w.t.call('PATCH', `/api/v1/users/${w.bob.id}`, {
      token: w.admin,
      body: { role: 'team_admin', team_id: team.body.id },
    });
    expect(promote.status).toBe(200);
    const tokens = await issued(w);
    const cursor = await w.feedCursor();
    const demote = await w.t.call('PATCH', `/api/v1/users/${w.bob.id}`, {
      token: w.admin,
      body: { role: 'user', team_id: null },
    });
    expect(demote.status).toBe(200);
    expect(await w.feedCursor()).toBe(cursor);
    // Base access comes from base membership alone: the same exchange answers the same permission.
    expect(permissionOf(await w.baseToken(w.bob.token))).toBe(permissionOf(tokens.fromAccount));
    expect(await w.check(tokens.fromAccount, w.base)).toBe('accepted');
  });

  it('the feed holds one subject_base entry per (user, base), however often a member is demoted and promoted', async () => {
    const w = await world('admin');
    for (let i = 0; i < 5; i++) {
      w.t.clock.advance(1);
      for (const permission of ['r', 'admin'] as const)
        await w.t.call('PUT', `/api/v1/bases/${w.base}/members/${w.bob.id}`, {
          token: w.alice.token,
          body: { permission },
        });
    }
    const feed = (await w.t.call('GET', '/api/v1/revocations')).body.revocations;
    expect(feed).toEqual([
      {
        kind: 'subject_base',
        value: w.bob.id,
        aud: `urn:tokenladder:base:${w.base}`,
        revoked_at: Math.floor(w.t.clock.now() / 1000),
        expires_at: expect.any(Number),
        // Written anew at each of the 5 demotions: the newest feed position.
        gen: 5,
      },
    ]);
  });

  it('the verifier applies subject_base to one user on one base, issued at or before it, and refuses everything on one without aud', async () => {
    const seconds = Math.floor(Date.UTC(2026, 10, 1, 12, 0, 0) / 1000);
    const aud = 'urn:tokenladder:base:0f8fad5b-d9cb-469f-a165-70867728950e';
    let entry: Record<string, unknown> = {
      kind: 'subject_base',
      value: 'bob',
      aud,
      revoked_at: seconds,
      expires_at: seconds + 3600,
    };
    const revocations = createRevocationList({
      url: 'http://issuer.test/api/v1/revocations',
      fetch: (async () =>
        Response.json({ revocations: [entry], cursor: '1', complete: true, reset: false })) as typeof fetch,
      currentDate: () => new Date(seconds * 1000),
    });
    const claims = (sub: string, iat: number, audience = aud) => ({
      client_id: 'some-token',
      jti: crypto.randomUUID(),
      iat,
      aud: audience,
      sub,
    });
    await revocations.sync();
    expect(() => revocations.check(claims('bob', seconds))).toThrow(
      expect.objectContaining({ code: 'token_revoked' }),
    );
    expect(() => revocations.check(claims('bob', seconds + 1))).not.toThrow();
    expect(() => revocations.check(claims('alice', seconds))).not.toThrow();
    expect(() =>
      revocations.check(claims('bob', seconds, 'urn:tokenladder:base:6ba7b810-9dad-41d1-80b4-00c04fd430c8')),
    ).not.toThrow();
    entry = { ...entry, aud: undefined };
    await expect(revocations.sync()).rejects.toThrow(/does not understand/);
    expect(() => revocations.check(claims('alice', seconds + 1))).toThrow(
      expect.objectContaining({ code: 'revocations_unavailable' }),
    );
  });

  it('adding a member revokes nothing', async () => {
    const w = await world('rw');
    const tokens = await issued(w);
    const carol = await w.t.userWithToken(w.admin, 'carol@example.com');
    const cursor = await w.feedCursor();
    const added = await w.t.call('PUT', `/api/v1/bases/${w.base}/members/${carol.id}`, {
      token: w.alice.token,
      body: { permission: 'r' },
    });
    expect(added.status).toBe(200);
    expect(await w.feedCursor()).toBe(cursor);
    expect(await w.check(tokens.fromAccount, w.base)).toBe('accepted');
  });
});
