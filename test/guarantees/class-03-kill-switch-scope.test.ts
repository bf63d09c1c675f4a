import { describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { feedVerifier } from '../helpers/feed-verifier';

/**
 * Class 3 of issue 13: `POST /api/v1/kill-switch {base_uuid}` must end every API-Token's access to that
 * base, whatever its scope type (base, bases, workspace, all), and a base admin's kill switch must reach
 * nothing beyond that base. A dry run answers exactly what the real run then does.
 */

async function exchange(t: TestApp, token: string, baseUuid?: string) {
  return t.call('POST', '/api/v1/base-tokens', {
    token,
    ...(baseUuid !== undefined && { body: { base_uuid: baseUuid } }),
  });
}

async function multiBaseToken(t: TestApp, owner: string, name: string, resources: Record<string, unknown>) {
  const created = await t.call('POST', '/api/v1/api-tokens', {
    token: owner,
    body: { name, permission: 'rw', resources },
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  return created.body as { id: string; token: string };
}

async function world() {
  const t = await testApp();
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const bob = await t.userWithToken(admin, 'bob@example.com');
  const carol = await t.userWithToken(admin, 'carol@example.com');
  // Alice's workspace holds `target` and `other`; Bob has his own base; Carol administers only `target`.
  const target = await t.createBase(alice.token, 'Target');
  const other = await t.createBase(alice.token, 'Other');
  const bobs = await t.createBase(bob.token, 'Bobs');
  for (const [user, permission] of [
    [bob.id, 'rw'],
    [carol.id, 'admin'],
  ] as const)
    await t.call('PUT', `/api/v1/bases/${target}/members/${user}`, {
      token: alice.token,
      body: { permission },
    });
  const workspace = (await t.call('GET', '/api/v1/workspaces', { token: alice.token })).body.workspaces[0].id;
  const single = await t.createApiToken(alice.token, target, 'single', 'rw');
  const ws = await multiBaseToken(t, alice.token, 'workspace', {
    type: 'workspace',
    workspace_id: workspace,
  });
  const listed = await multiBaseToken(t, bob.token, 'listed', { type: 'bases', base_uuids: [target, bobs] });
  const all = await multiBaseToken(t, bob.token, 'all', { type: 'all' });
  // Carol's first use of her Account-Token is recorded (last_used_at): before any digest is taken.
  await t.call('GET', '/api/v1/workspaces', { token: carol.token });
  return { t, admin, alice, bob, carol, target, other, bobs, single, ws, listed, all };
}

describe('class 03: the kill switch misses and over-reaches', () => {
  it("a base admin's kill switch ends every token's access to the base, whatever its scope, and nothing else", async () => {
    const w = await world();
    const { t, target, other, bobs } = w;
    const verifier = feedVerifier(t);
    // Base-Tokens issued before the kill switch, for the target base and for bases beyond it.
    const before = {
      single: (await exchange(t, w.single.token)).body.base_token as string,
      wsTarget: (await exchange(t, w.ws.token, target)).body.base_token as string,
      wsOther: (await exchange(t, w.ws.token, other)).body.base_token as string,
      listedTarget: (await exchange(t, w.listed.token, target)).body.base_token as string,
      listedBobs: (await exchange(t, w.listed.token, bobs)).body.base_token as string,
      allTarget: (await exchange(t, w.all.token, target)).body.base_token as string,
      allBobs: (await exchange(t, w.all.token, bobs)).body.base_token as string,
    };
    await verifier.revocations.sync();
    for (const [name, jwt] of Object.entries(before)) {
      const base = /Other/i.test(name) ? other : /Bobs/.test(name) ? bobs : target;
      expect(await verifier.accepts(jwt, base), name).toBe(true);
    }
    t.clock.advance(5);

    // The dry run counts all four tokens and changes nothing.
    const digest = dbDigest(t.raw);
    const dry = await t.call('POST', '/api/v1/kill-switch', {
      token: w.carol.token,
      body: { base_uuid: target, dry_run: true },
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ disabled: 1, base_access_ended: 3, more: false, dry_run: true });
    expect(dbDigest(t.raw)).toBe(digest);

    // The real run does exactly what the dry run said.
    const real = await t.call('POST', '/api/v1/kill-switch', {
      token: w.carol.token,
      body: { base_uuid: target },
    });
    expect(real.body).toEqual({ ...dry.body, dry_run: false });

    // No token exchanges for the target base any more.
    expect((await exchange(t, w.single.token)).body.error.code).toBe('token_disabled');
    for (const token of [w.ws, w.listed, w.all]) {
      const refused = await exchange(t, token.token, target);
      expect(refused.status, token.id).toBe(401);
      expect(refused.body.error.code, token.id).toBe('base_not_in_scope');
    }
    // Every Base-Token for the target base is refused by a synced verifier.
    t.clock.advance(1);
    await verifier.revocations.sync();
    for (const name of ['single', 'wsTarget', 'listedTarget', 'allTarget'] as const)
      expect(await verifier.accepts(before[name], target), name).toBe(false);

    // Nothing beyond the target: the multi-base tokens stay enabled and keep their other bases,
    // both for new exchanges and for the Base-Tokens already issued.
    for (const token of [w.ws, w.listed, w.all]) {
      const shown = await t.call('GET', `/api/v1/api-tokens/${token.id}`, { token: w.admin });
      expect(shown.body.enabled, token.id).toBe(true);
    }
    expect((await exchange(t, w.ws.token, other)).status).toBe(201);
    expect((await exchange(t, w.listed.token, bobs)).status).toBe(201);
    expect((await exchange(t, w.all.token, bobs)).status).toBe(201);
    expect(await verifier.accepts(before.wsOther, other)).toBe(true);
    expect(await verifier.accepts(before.listedBobs, bobs)).toBe(true);
    expect(await verifier.accepts(before.allBobs, bobs)).toBe(true);

    // Nothing is left: a second dry run and a second run both report zero.
    const again = await t.call('POST', '/api/v1/kill-switch', {
      token: w.carol.token,
      body: { base_uuid: target, dry_run: true },
    });
    expect(again.body).toEqual({ disabled: 0, base_access_ended: 0, more: false, dry_run: true });
    const settled = dbDigest(t.raw);
    const noop = await t.call('POST', '/api/v1/kill-switch', {
      token: w.carol.token,
      body: { base_uuid: target },
    });
    expect(noop.body).toEqual({ disabled: 0, base_access_ended: 0, more: false, dry_run: false });
    expect(dbDigest(t.raw)).toBe(settled);
  });

  it("a system admin's kill switch for a base also spares the tokens' other bases, and a created_before filter holds", async () => {
    const w = await world();
    const { t, target, other, bobs } = w;
    t.clock.advance(100);
    const cutoff = new Date(t.clock.now()).toISOString();
    const late = await multiBaseToken(t, w.bob.token, 'late', { type: 'all' });
    const answer = await t.call('POST', '/api/v1/kill-switch', {
      token: w.admin,
      body: { base_uuid: target, created_before: cutoff },
    });
    expect(answer.body).toEqual({ disabled: 1, base_access_ended: 3, more: false, dry_run: false });
    expect((await exchange(t, w.ws.token, other)).status).toBe(201);
    expect((await exchange(t, w.all.token, bobs)).status).toBe(201);
    expect((await exchange(t, w.all.token, target)).status).toBe(401);
    // Made after the cutoff: untouched.
    expect((await exchange(t, late.token, target)).status).toBe(201);
  });

  it('a base admin still cannot name a base they do not administer (nothing changes)', async () => {
    const w = await world();
    const digest = dbDigest(w.t.raw);
    for (const base of [w.other, w.bobs]) {
      const refused = await w.t.call('POST', '/api/v1/kill-switch', {
        token: w.carol.token,
        body: { base_uuid: base, dry_run: false },
      });
      expect(refused.status).toBe(404);
    }
    expect(dbDigest(w.t.raw)).toBe(digest);
  });
});
