import { beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

describe('bases, members and API-Tokens', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let aliceBase: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    alice = await t.userWithToken(admin, 'alice@example.com');
    bob = await t.userWithToken(admin, 'bob@example.com');
    aliceBase = await t.createBase(alice.token, 'Alice CRM');
    await t.call('GET', '/api/v1/me', { token: bob.token });
  });

  const exchange = (token: string, body?: unknown) => t.call('POST', '/api/v1/base-tokens', { token, body });

  it('keeps base names unique per workspace (409) but free across users', async () => {
    const duplicate = await t.call('POST', '/api/v1/bases', {
      token: alice.token,
      body: { name: 'Alice CRM' },
    });
    expect(duplicate.status).toBe(409);
    expect(
      (await t.call('POST', '/api/v1/bases', { token: bob.token, body: { name: 'Alice CRM' } })).status,
    ).toBe(201);
  });

  it("lists a user's bases in their workspace and nobody else's", async () => {
    const workspaces = await t.call('GET', '/api/v1/workspaces', { token: alice.token });
    expect(workspaces.body.workspaces[0].bases).toEqual([
      expect.objectContaining({ uuid: aliceBase, name: 'Alice CRM', permission: 'admin' }),
    ]);
    expect((await t.call('GET', '/api/v1/bases', { token: bob.token })).body.bases).toEqual([]);
    expect((await t.call('GET', `/api/v1/bases/${aliceBase}`, { token: bob.token })).status).toBe(404);
  });

  it('creates a base only in a workspace the caller owns', async () => {
    const bobWorkspace = (await t.call('GET', '/api/v1/workspaces', { token: bob.token })).body.workspaces[0]
      .id;
    const response = await t.call('POST', '/api/v1/bases', {
      token: alice.token,
      body: { name: 'Sneaky', workspace_id: bobWorkspace },
    });
    expect(response.status).toBe(404);
  });

  it('isolates two users and two bases completely', async () => {
    const bobBase = await t.createBase(bob.token, 'Bob Inventory');
    const aliceToken = await t.createApiToken(alice.token, aliceBase, 'alice job', 'rw');
    const bobToken = await t.createApiToken(bob.token, bobBase, 'bob job', 'rw');
    const before = dbDigest(t.raw);
    expect((await t.call('GET', `/api/v1/bases/${aliceBase}/api-tokens`, { token: bob.token })).status).toBe(
      404,
    );
    expect(
      (
        await t.call('POST', `/api/v1/bases/${aliceBase}/api-tokens`, {
          token: bob.token,
          body: { name: 'x', permission: 'r' },
        })
      ).status,
    ).toBe(404);
    expect((await t.call('DELETE', `/api/v1/api-tokens/${aliceToken.id}`, { token: bob.token })).status).toBe(
      404,
    );
    expect(
      (
        await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
          token: bob.token,
          body: { permission: 'admin' },
        })
      ).status,
    ).toBe(404);
    expect((await t.call('GET', `/api/v1/bases/${aliceBase}/members`, { token: bob.token })).status).toBe(
      404,
    );
    expect((await exchange(bob.token, { base_uuid: aliceBase })).status).toBe(404);
    const wrongBase = await exchange(aliceToken.token, { base_uuid: bobBase });
    expect(wrongBase.status).toBe(401);
    expect(wrongBase.body.error.code).toBe('base_not_in_scope');
    expect(dbDigest(t.raw)).toBe(before);
    expect(claimsOf((await exchange(bobToken.token)).body.base_token).base_uuid).toBe(bobBase);
    expect(claimsOf((await exchange(aliceToken.token)).body.base_token).base_uuid).toBe(aliceBase);
  });

  it('never lets anyone mint above their own permission', async () => {
    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    const before = dbDigest(t.raw);
    const denied = await t.call('POST', `/api/v1/bases/${aliceBase}/api-tokens`, {
      token: bob.token,
      body: { name: 'bob rw', permission: 'rw' },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('insufficient_permission');
    expect(dbDigest(t.raw)).toBe(before);
    expect(
      (
        await t.call('POST', `/api/v1/bases/${aliceBase}/api-tokens`, {
          token: bob.token,
          body: { name: 'bob r', permission: 'r' },
        })
      ).status,
    ).toBe(201);
  });

  it('keeps API-Token names unique per base, and frees a name when its token is revoked', async () => {
    const first = await t.createApiToken(alice.token, aliceBase, 'sync', 'r');
    expect(
      (
        await t.call('POST', `/api/v1/bases/${aliceBase}/api-tokens`, {
          token: alice.token,
          body: { name: 'sync', permission: 'rw' },
        })
      ).status,
    ).toBe(409);
    expect((await t.call('DELETE', `/api/v1/api-tokens/${first.id}`, { token: alice.token })).status).toBe(
      204,
    );
    expect(
      (
        await t.call('POST', `/api/v1/bases/${aliceBase}/api-tokens`, {
          token: alice.token,
          body: { name: 'sync', permission: 'rw' },
        })
      ).status,
    ).toBe(201);
  });

  it('shows base admins every token of the base and other members only their own, never a secret', async () => {
    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const aliceToken = await t.createApiToken(alice.token, aliceBase, 'alice job', 'rw');
    const bobToken = await t.createApiToken(bob.token, aliceBase, 'bob job', 'r');
    await exchange(bobToken.token);

    const adminView = await t.call('GET', `/api/v1/bases/${aliceBase}/api-tokens`, { token: alice.token });
    expect(adminView.body.api_tokens.map((token: { name: string }) => token.name).sort()).toEqual([
      'alice job',
      'bob job',
    ]);
    expect(adminView.body.api_tokens.find((token: { name: string }) => token.name === 'bob job')).toEqual({
      id: bobToken.id,
      name: 'bob job',
      permission: 'r',
      scopes: null,
      resources: { type: 'base', base_uuid: aliceBase },
      base_uuid: aliceBase,
      enabled: true,
      expires_at: null,
      expired: false,
      created_by: bob.id,
      created_by_email: 'bob@example.com',
      created_at: '2026-11-01T12:00:00Z',
      updated_at: '2026-11-01T12:00:00Z',
      last_used_at: '2026-11-01T12:00:00Z',
      previous_secret: null,
      allowed_networks: null,
    });
    const memberView = await t.call('GET', `/api/v1/bases/${aliceBase}/api-tokens`, { token: bob.token });
    expect(memberView.body.api_tokens.map((token: { name: string }) => token.name)).toEqual(['bob job']);
    expect(JSON.stringify([adminView.body, memberView.body])).not.toMatch(/tl_api_/);

    // Bob cannot revoke Alice's token; Alice (base admin) can revoke Bob's.
    expect((await t.call('DELETE', `/api/v1/api-tokens/${aliceToken.id}`, { token: bob.token })).status).toBe(
      404,
    );
    expect((await t.call('DELETE', `/api/v1/api-tokens/${bobToken.id}`, { token: alice.token })).status).toBe(
      204,
    );
    const revoked = await exchange(bobToken.token);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('token_revoked');
  });

  it("re-checks the creator's membership at every exchange (intersection model)", async () => {
    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const bobToken = await t.createApiToken(bob.token, aliceBase, 'bob rw job', 'rw');
    expect((await exchange(bobToken.token)).body.permission).toBe('rw');

    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    const demoted = await exchange(bobToken.token);
    expect(demoted.body.permission).toBe('r');
    expect(claimsOf(demoted.body.base_token).permission).toBe('r');

    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'admin' },
    });
    expect((await exchange(bobToken.token)).body.permission).toBe('rw'); // a token never grants more than it was made with

    expect(
      (await t.call('DELETE', `/api/v1/bases/${aliceBase}/members/${bob.id}`, { token: alice.token })).status,
    ).toBe(204);
    const removed = await exchange(bobToken.token);
    expect(removed.status).toBe(403);
    expect(removed.body.error.message).toMatch(/no longer has access/);
  });

  it('lets only base admins manage members, and always keeps one admin', async () => {
    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const notAdmin = await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: bob.token,
      body: { permission: 'admin' },
    });
    expect(notAdmin.status).toBe(403);

    expect(
      (
        await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${alice.id}`, {
          token: alice.token,
          body: { permission: 'r' },
        })
      ).status,
    ).toBe(409);
    expect(
      (await t.call('DELETE', `/api/v1/bases/${aliceBase}/members/${alice.id}`, { token: alice.token }))
        .status,
    ).toBe(409);

    await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'admin' },
    });
    const demoteSelf = await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${alice.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    expect(demoteSelf.status).toBe(200);
    expect(demoteSelf.body).toMatchObject({ user_id: alice.id, permission: 'r', email: 'alice@example.com' });
    const members = await t.call('GET', `/api/v1/bases/${aliceBase}/members`, { token: alice.token });
    expect(members.body.members.map((m: { permission: string }) => m.permission).sort()).toEqual([
      'admin',
      'r',
    ]);
    expect(
      (
        await t.call('PUT', `/api/v1/bases/${aliceBase}/members/${crypto.randomUUID()}`, {
          token: bob.token,
          body: { permission: 'r' },
        })
      ).status,
    ).toBe(404);
  });

  it('lets an r token exchange only for r, even when asked for a base it belongs to', async () => {
    const reader = await t.createApiToken(alice.token, aliceBase, 'reader', 'r');
    const response = await exchange(reader.token, { base_uuid: aliceBase });
    expect(response.status).toBe(201);
    expect(response.body.permission).toBe('r');
  });
});
