import { beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest, LAST_USED_COLUMNS } from '../helpers/db-digest';

// PATCH /api/v1/api-tokens/:id on a token whose owner has left the token's base: a change that grants
// nothing more (narrower scopes, disable, an earlier expiry, a rename) works and ends the Base-Tokens
// it should, as for any token; a change that would widen the token is 403, naming why, and changes
// nothing. (It used to answer 404 "base not found" to any permission change, narrowing included.)

const DAY = 86400;

type Entry = { kind: string; value: string; revoked_at: number };

describe('PATCH an API-Token whose owner has left its base', () => {
  let t: TestApp;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let base: string;
  let token: { id: string; token: string };

  beforeEach(async () => {
    t = await testApp();
    const admin = await t.login();
    alice = await t.userWithToken(admin, 'alice@example.com');
    bob = await t.userWithToken(admin, 'bob@example.com');
    base = await t.createBase(alice.token, 'CRM');
    const added = await t.call('PUT', `/api/v1/bases/${base}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    expect(added.status).toBe(200);
    const minted = await t.call('POST', `/api/v1/bases/${base}/api-tokens`, {
      token: bob.token,
      body: { name: 'sync', permission: 'rw', expires_in_days: 30 },
    });
    expect(minted.status).toBe(201);
    token = { id: minted.body.id, token: minted.body.token };
    t.clock.advance(60);
    const removed = await t.call('DELETE', `/api/v1/bases/${base}/members/${bob.id}`, { token: alice.token });
    expect(removed.status).toBe(204);
    t.clock.advance(60);
  });

  const patch = (body: unknown, caller = bob.token) =>
    t.call('PATCH', `/api/v1/api-tokens/${token.id}`, { token: caller, body });

  /** The feed's entry for the token itself (its Base-Tokens, whatever their base). */
  const feedEntryOfToken = async () => {
    const feed = (await t.call('GET', '/api/v1/revocations?since=0')).body;
    expect(feed.complete).toBe(true);
    return (feed.revocations as Entry[]).find((entry) => entry.kind === 'client' && entry.value === token.id);
  };

  it.each([
    ['its owner', () => bob.token],
    ['the base admin', () => alice.token],
  ])(
    'narrows its permission (asked by %s), publishing the revocation as for any narrowing',
    async (_who, caller) => {
      const publishedBefore = await feedEntryOfToken();
      const narrowed = await patch({ permission: 'r' }, caller());
      expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
      expect(narrowed.body.permission).toBe('r');
      // Its Base-Tokens issued until now end at every verifier: the token's own feed entry, as of now.
      const published = await feedEntryOfToken();
      expect(published).toBeDefined();
      expect(published!.revoked_at).toBe(Math.floor(t.clock.now() / 1000));
      expect(published!.revoked_at).toBeGreaterThan(publishedBefore?.revoked_at ?? 0);
    },
  );

  it('accepts every change that grants nothing more: fewer scopes, disable, an earlier expiry, a rename', async () => {
    const changes = [
      { scopes: { records: 'r', comments: 'r' } },
      { scopes: { records: 'r' } },
      { enabled: false },
      { expires_in_days: 7 },
      { name: 'sync (old)' },
      // The permission it already has: nothing more either.
      { scopes: { records: 'r' }, enabled: false },
    ];
    for (const body of changes) {
      const answer = await patch(body);
      expect(answer.status, `${JSON.stringify(body)} → ${JSON.stringify(answer.body)}`).toBe(200);
    }
    const now = (await t.call('GET', `/api/v1/api-tokens/${token.id}`, { token: bob.token })).body;
    expect(now).toMatchObject({ name: 'sync (old)', enabled: false, scopes: { c: { records: 'r' } } });
  });

  it('refuses, with 403 and why, every change that would widen it, changing nothing', async () => {
    // First narrowed, disabled and shortened, so there is something to widen back.
    expect((await patch({ permission: 'r', enabled: false, expires_in_days: 7 })).status).toBe(200);
    // (The callers' Account-Tokens may note their use, as any accepted authentication does.)
    const digest = () => dbDigest(t.raw, { ignoreColumns: LAST_USED_COLUMNS });
    const before = digest();
    const widenings = [
      { permission: 'rw' },
      { scopes: { records: 'rw' } },
      { enabled: true },
      { expires_in_days: 8 },
      { expires_at: null },
      // Widening mixed with what would be allowed alone: all or nothing.
      { name: 'renamed', permission: 'rw' },
      { enabled: false, expires_in_days: 30 },
    ];
    for (const caller of [bob.token, alice.token]) {
      for (const body of widenings) {
        const refused = await patch(body, caller);
        expect(refused.status, `${JSON.stringify(body)} → ${JSON.stringify(refused.body)}`).toBe(403);
        expect(refused.body.error.code).toBe('insufficient_permission');
        expect(refused.body.error.message).toContain(`no longer has access to base ${base}`);
      }
    }
    expect(digest()).toBe(before);

    // Back in the base, the owner's token can be widened again (up to what the owner holds).
    await t.call('PUT', `/api/v1/bases/${base}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    expect((await patch({ permission: 'rw', enabled: true, expires_in_days: 30 })).status).toBe(200);
  });

  it('still refuses widening above what a remaining owner holds', async () => {
    await t.call('PUT', `/api/v1/bases/${base}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    expect((await patch({ permission: 'r' })).status).toBe(200);
    const before = dbDigest(t.raw);
    const refused = await patch({ permission: 'rw' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('holds "r"');
    expect(dbDigest(t.raw)).toBe(before);
    // Time is not access: a member's token may be given a later expiry.
    t.clock.advance(DAY);
    expect((await patch({ expires_in_days: 60 })).status).toBe(200);
  });
});
