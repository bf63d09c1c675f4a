import { beforeEach, describe, expect, it } from 'vitest';
import { PASSWORD, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

const DAY = 86400;

describe('API-Token lifecycle', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: string; token: string };
  let baseUuid: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    alice = await t.userWithToken(admin, 'alice@example.com');
    baseUuid = await t.createBase(alice.token, 'CRM');
  });

  const mint = async (body: Record<string, unknown>, token = alice.token) =>
    t.call('POST', `/api/v1/bases/${baseUuid}/api-tokens`, {
      token,
      body: body.scopes ? body : { permission: 'rw', ...body },
    });
  const exchange = (secret: string, body?: unknown) =>
    t.call('POST', '/api/v1/base-tokens', { token: secret, body });
  const patch = (id: string, body: unknown, token = alice.token) =>
    t.call('PATCH', `/api/v1/api-tokens/${id}`, { token, body });

  it('expires at the chosen time: presets in days, a custom date, or never', async () => {
    const week = await mint({ name: 'week', expires_in_days: 7 });
    expect(week.status).toBe(201);
    expect(week.body).toMatchObject({ expires_at: '2026-11-08T12:00:00Z', expired: false });
    const custom = await mint({ name: 'custom', expires_at: '2026-12-24T18:00:00+01:00' });
    expect(custom.body.expires_at).toBe('2026-12-24T17:00:00Z');
    const never = await mint({ name: 'never' });
    expect(never.body.expires_at).toBeNull();

    expect((await exchange(week.body.token)).status).toBe(201);
    t.clock.advance(7 * DAY);
    const expired = await exchange(week.body.token);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('token_expired');
    expect((await exchange(never.body.token)).status).toBe(201);

    const listed = await t.call('GET', '/api/v1/api-tokens', { token: alice.token });
    expect(
      listed.body.api_tokens
        .map((token: { name: string; expired: boolean }) => [token.name, token.expired])
        .sort(),
    ).toEqual([
      ['custom', false],
      ['never', false],
      ['week', true],
    ]);
    const expiredOnly = await t.call('GET', '/api/v1/api-tokens?status=expired', { token: alice.token });
    expect(expiredOnly.body.api_tokens.map((token: { name: string }) => token.name)).toEqual(['week']);
    const activeOnly = await t.call('GET', '/api/v1/api-tokens?status=active', { token: alice.token });
    expect(activeOnly.body.api_tokens.map((token: { name: string }) => token.name).sort()).toEqual([
      'custom',
      'never',
    ]);
  });

  it('refuses expiries in the past, both forms at once, and bad values', async () => {
    const before = dbDigest(t.raw);
    expect((await mint({ name: 'past', expires_at: '2020-01-01T00:00:00Z' })).status).toBe(400);
    expect(
      (await mint({ name: 'both', expires_at: '2027-01-01T00:00:00Z', expires_in_days: 7 })).status,
    ).toBe(400);
    expect((await mint({ name: 'zero', expires_in_days: 0 })).status).toBe(400);
    expect((await mint({ name: 'text', expires_at: 'next tuesday' })).status).toBe(400);
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('disables and re-enables a token without deleting it', async () => {
    const token = (await mint({ name: 'toggle' })).body;
    const disabled = await patch(token.id, { enabled: false });
    expect(disabled.body.enabled).toBe(false);
    const refused = await exchange(token.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('token_disabled');
    expect(
      (await t.call('GET', '/api/v1/api-tokens?status=disabled', { token: alice.token })).body.api_tokens,
    ).toHaveLength(1);
    await patch(token.id, { enabled: true });
    expect((await exchange(token.token)).status).toBe(201);
  });

  it('renames and changes permissions in place, never above the owner', async () => {
    const token = (await mint({ name: 'first' })).body;
    await mint({ name: 'taken' });
    const renamed = await patch(token.id, { name: 'second', permission: 'r' });
    expect(renamed.body).toMatchObject({ id: token.id, name: 'second', permission: 'r' });
    expect((await exchange(token.token)).body.permission).toBe('r');
    expect((await patch(token.id, { name: 'taken' })).status).toBe(409);

    const bob = await t.userWithToken(admin, 'bob@example.com');
    await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    const bobs = (await mint({ name: 'bobs', permission: 'r' }, bob.token)).body;
    const raise = await patch(bobs.id, { permission: 'rw' }, bob.token);
    expect(raise.status).toBe(403);
    // Not even the base admin can raise it above its owner.
    expect((await patch(bobs.id, { permission: 'rw' })).status).toBe(403);
    expect((await patch(bobs.id, { name: 'renamed by admin' })).status).toBe(200);
  });

  it('regenerates: same id, name, grant and expiry; the old secret dies at once', async () => {
    const token = (await mint({ name: 'rotate', expires_in_days: 30 })).body;
    const regenerated = await t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
      token: alice.token,
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body).toMatchObject({
      id: token.id,
      name: 'rotate',
      permission: 'rw',
      expires_at: token.expires_at,
      previous_secret: null,
    });
    expect(regenerated.body.token).not.toBe(token.token);
    expect(regenerated.body.token.slice(7, 23)).toBe(token.id);
    const old = await exchange(token.token);
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('token_invalid');
    expect((await exchange(regenerated.body.token)).status).toBe(201);
  });

  it('leaves exactly one valid secret after concurrent regenerations', async () => {
    const token = (await mint({ name: 'race' })).body;
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: alice.token }),
      ),
    );
    for (const reply of replies) expect([200, 409]).toContain(reply.status);
    const secrets = replies
      .filter((reply) => reply.status === 200)
      .map((reply) => reply.body.token as string);
    expect(secrets.length).toBeGreaterThan(0);
    const working = [];
    for (const secret of [token.token, ...secrets])
      if ((await exchange(secret)).status === 201) working.push(secret);
    expect(working).toHaveLength(1);
    expect(t.raw.prepare('SELECT count(*) AS n FROM api_tokens').get()).toEqual({ n: 1 });
  });

  it('keeps the old secret for a grace period when asked, listing both', async () => {
    const token = (await mint({ name: 'graceful' })).body;
    await exchange(token.token);
    const regenerated = await t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
      token: alice.token,
      body: { grace_seconds: 3600 },
    });
    expect(regenerated.body.previous_secret).toEqual({
      expires_at: '2026-11-01T13:00:00Z',
      last_used_at: '2026-11-01T12:00:00Z',
    });
    expect(regenerated.body.last_used_at).toBeNull();
    t.clock.advance(120);
    expect((await exchange(token.token)).status).toBe(201);
    expect((await exchange(regenerated.body.token)).status).toBe(201);
    const listed = (await t.call('GET', `/api/v1/api-tokens/${token.id}`, { token: alice.token })).body;
    expect(listed.previous_secret.last_used_at).toBe('2026-11-01T12:02:00Z');
    expect(listed.last_used_at).toBe('2026-11-01T12:02:00Z');
    t.clock.advance(3600);
    expect((await exchange(token.token)).status).toBe(401);
    expect((await exchange(regenerated.body.token)).status).toBe(201);
    expect(
      (
        await t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
          token: alice.token,
          body: { grace_seconds: 8 * DAY },
        })
      ).status,
    ).toBe(400);
  });

  it('survives a delete racing exchanges: each exchange is 201 or 401, and the token ends revoked', async () => {
    const token = (await mint({ name: 'doomed' })).body;
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => exchange(token.token)),
      t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: alice.token }),
      ...Array.from({ length: 5 }, () => exchange(token.token)),
    ]);
    expect(results[5]!.status).toBe(204);
    for (const result of [...results.slice(0, 5), ...results.slice(6)])
      expect([201, 401]).toContain(result.status);
    expect((await exchange(token.token)).body.error.code).toBe('token_revoked');
    expect(t.raw.prepare('SELECT count(*) AS n FROM api_tokens WHERE revoked_at IS NOT NULL').get()).toEqual({
      n: 1,
    });
  });

  it('bulk-deletes all or nothing', async () => {
    const a = (await mint({ name: 'a' })).body;
    const b = (await mint({ name: 'b' })).body;
    const c = (await mint({ name: 'c' })).body;
    const bob = await t.userWithToken(admin, 'bob@example.com');
    const bobBase = await t.createBase(bob.token, 'Bob base');
    const foreign = (
      await t.call('POST', `/api/v1/bases/${bobBase}/api-tokens`, {
        token: bob.token,
        body: { name: 'f', permission: 'r' },
      })
    ).body;

    const before = dbDigest(t.raw);
    const mixed = await t.call('POST', '/api/v1/api-tokens/bulk-delete', {
      token: alice.token,
      body: { ids: [a.id, foreign.id] },
    });
    expect(mixed.status).toBe(404);
    expect(dbDigest(t.raw)).toBe(before);

    // Overlapping requests: one wins whole, the other changes nothing.
    const [first, second] = await Promise.all([
      t.call('POST', '/api/v1/api-tokens/bulk-delete', { token: alice.token, body: { ids: [a.id, b.id] } }),
      t.call('POST', '/api/v1/api-tokens/bulk-delete', { token: alice.token, body: { ids: [b.id, c.id] } }),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 404]);
    const alive = (await t.call('GET', '/api/v1/api-tokens', { token: alice.token })).body.api_tokens.map(
      (token: { name: string }) => token.name,
    );
    expect(alive).toEqual(first.status === 200 ? ['c'] : ['a']);
    expect((await exchange(foreign.token)).status).toBe(201);
    expect(
      (await t.call('POST', '/api/v1/api-tokens/bulk-delete', { token: alice.token, body: { ids: [] } }))
        .status,
    ).toBe(400);
  });

  it("filters lists by base and creator, and shows base admins their base's tokens", async () => {
    const bob = await t.userWithToken(admin, 'bob@example.com');
    await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    await mint({ name: 'alice-1' });
    await mint({ name: 'bob-1' }, bob.token);
    const otherBase = await t.createBase(alice.token, 'Other');
    await t.call('POST', `/api/v1/bases/${otherBase}/api-tokens`, {
      token: alice.token,
      body: { name: 'other-1', permission: 'r' },
    });

    const names = async (query: string, token = alice.token) =>
      (await t.call('GET', `/api/v1/api-tokens${query}`, { token })).body.api_tokens
        .map((entry: { name: string }) => entry.name)
        .sort();
    expect(await names('')).toEqual(['alice-1', 'bob-1', 'other-1']);
    expect(await names(`?base_uuid=${otherBase}`)).toEqual(['other-1']);
    expect(await names(`?created_by=${bob.id}`)).toEqual(['bob-1']);
    expect(await names('', bob.token)).toEqual(['bob-1']);
    expect((await t.call('GET', '/api/v1/api-tokens?status=sideways', { token: alice.token })).status).toBe(
      400,
    );
  });

  it('enforces the instance token policy at creation and at every exchange', async () => {
    const older = (await mint({ name: 'older' })).body;
    const aliceCannot = await t.call('PUT', '/api/v1/token-policy', {
      token: alice.token,
      body: { max_lifetime_days: 30 },
    });
    expect(aliceCannot.status).toBe(403);
    const set = await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { max_lifetime_days: 30 },
    });
    expect(set.body).toEqual({
      max_lifetime_days: 30,
      require_expiry: false,
      forbid_all_bases_scope: false,
      service_account_max_permission: 'rw',
      network_bound_base_token_ttl_seconds: null,
    });
    expect((await t.call('GET', '/api/v1/token-policy', { token: alice.token })).body.max_lifetime_days).toBe(
      30,
    );

    expect((await mint({ name: 'forever' })).status).toBe(400);
    expect((await mint({ name: 'long', expires_in_days: 31 })).status).toBe(400);
    expect((await mint({ name: 'fine', expires_in_days: 30 })).status).toBe(201);
    // A token from before the policy, once older than the maximum, stops.
    expect((await exchange(older.token)).status).toBe(201);
    t.clock.advance(30 * DAY);
    const tooOld = await exchange(older.token);
    expect(tooOld.status).toBe(401);
    expect(tooOld.body.error.code).toBe('token_expired');

    await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { max_lifetime_days: null, forbid_all_bases_scope: true },
    });
    expect(
      (
        await t.call('POST', '/api/v1/api-tokens', {
          token: alice.token,
          body: { name: 'everything', permission: 'r', resources: { type: 'all' } },
        })
      ).status,
    ).toBe(400);
  });

  it('lets service accounts own tokens that outlive the employee who set them up', async () => {
    const created = await t.call('POST', '/api/v1/service-accounts', {
      token: admin,
      body: { name: 'Nightly sync' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Nightly sync',
      kind: 'service',
      role: 'user',
      is_active: true,
    });
    const service = created.body.id;
    expect(
      (await t.call('POST', '/api/v1/service-accounts', { token: alice.token, body: { name: 'x' } })).status,
    ).toBe(403);
    expect(
      (await t.call('GET', '/api/v1/service-accounts', { token: admin })).body.service_accounts,
    ).toHaveLength(1);
    // It cannot sign in.
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: created.body.email, password: PASSWORD },
        })
      ).status,
    ).toBe(401);

    // The base admin (an employee) gives it access; a system admin mints its token.
    const body = { name: 'sync', permission: 'rw', resources: { type: 'base', base_uuid: baseUuid } };
    expect(
      (await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, { token: admin, body })).status,
    ).toBe(404);
    await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${service}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    expect(
      (await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, { token: alice.token, body }))
        .status,
    ).toBe(403);
    const token = await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
      token: admin,
      body,
    });
    expect(token.status).toBe(201);
    expect(token.body.created_by).toBe(service);
    // A person is not a service account.
    expect(
      (await t.call('POST', `/api/v1/service-accounts/${alice.id}/api-tokens`, { token: admin, body }))
        .status,
    ).toBe(403);

    await t.call('PATCH', `/api/v1/users/${alice.id}`, { token: admin, body: { is_active: false } });
    expect((await exchange(token.body.token)).status).toBe(201);

    await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { service_account_max_permission: 'r' },
    });
    const limited = await exchange(token.body.token);
    expect(limited.status).toBe(403);
    expect(
      (
        await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
          token: admin,
          body: { ...body, name: 'sync-2' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
          token: admin,
          body: { ...body, name: 'sync-2', permission: 'r' },
        })
      ).status,
    ).toBe(201);
  });

  it("explains why an exchange or an action would be refused, to the token's owner only", async () => {
    const token = (await mint({ name: 'explained', scopes: { records: 'r', comments: 'rw' } })).body;
    const explain = (body: unknown, caller = alice.token) =>
      t.call('POST', `/api/v1/api-tokens/${token.id}/explain`, { token: caller, body });
    expect((await explain({ action: 'comments:write' })).body).toMatchObject({
      allowed: true,
      base_uuid: baseUuid,
      code: null,
    });
    expect((await explain({ action: 'records:update', table: 't1' })).body).toMatchObject({
      allowed: false,
      code: 'insufficient_permission',
      reason: expect.stringMatching(/records:update/),
    });
    expect((await explain({ base_uuid: crypto.randomUUID() })).body).toMatchObject({
      allowed: false,
      code: 'base_not_in_scope',
    });
    await patch(token.id, { enabled: false });
    expect((await explain({})).body).toMatchObject({ allowed: false, code: 'token_disabled' });
    const bob = await t.userWithToken(admin, 'bob@example.com');
    expect((await explain({}, bob.token)).status).toBe(404);
  });

  it('answers unknown or foreign token ids with 404 on every lifecycle route', async () => {
    const bob = await t.userWithToken(admin, 'bob@example.com');
    const token = (await mint({ name: 'mine' })).body;
    await t.call('GET', '/api/v1/me', { token: bob.token });
    const before = dbDigest(t.raw);
    for (const [method, path, body] of [
      ['GET', `/api/v1/api-tokens/${token.id}`, undefined],
      ['PATCH', `/api/v1/api-tokens/${token.id}`, { enabled: false }],
      ['POST', `/api/v1/api-tokens/${token.id}/regenerate`, {}],
      ['DELETE', `/api/v1/api-tokens/${token.id}`, undefined],
      ['POST', `/api/v1/api-tokens/${token.id}/explain`, {}],
    ] as const) {
      expect((await t.call(method, path, { token: bob.token, body })).status, `${method} ${path}`).toBe(404);
    }
    expect(dbDigest(t.raw)).toBe(before);
  });
});
