import { beforeEach, describe, expect, it } from 'vitest';
import { PASSWORD, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

describe('users, roles and teams', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
  });

  const createTeam = async (name: string) =>
    (await t.api(admin).POST('/api/v1/teams', { body: { name } })).data!.id;

  it('lets a system admin create, list and update users, each with a personal workspace', async () => {
    const created = await t.api(admin).POST('/api/v1/users', {
      body: { email: 'Ann@Example.com', password: PASSWORD, role: 'user', name: 'Ann' },
    });
    expect(created.response.status).toBe(201);
    expect(created.data).toEqual({
      id: expect.any(String),
      email: 'ann@example.com',
      name: 'Ann',
      role: 'user',
      team_id: null,
      is_active: true,
      created_at: '2026-11-01T12:00:00Z',
      updated_at: '2026-11-01T12:00:00Z',
    });
    expect(JSON.stringify(created.data)).not.toContain('scrypt');
    const list = await t.api(admin).GET('/api/v1/users');
    expect(list.data?.users.map((user) => user.email).sort()).toEqual([
      'admin@example.com',
      'ann@example.com',
    ]);

    const ann = await t.login('ann@example.com', PASSWORD);
    const workspaces = await t.api(ann).GET('/api/v1/workspaces');
    expect(workspaces.data?.workspaces).toEqual([
      {
        id: expect.any(String),
        name: 'Personal',
        kind: 'personal',
        created_at: expect.any(String),
        bases: [],
      },
    ]);

    const renamed = await t.api(admin).PATCH('/api/v1/users/{id}', {
      params: { path: { id: created.data!.id } },
      body: { name: 'Ann B.', role: 'system_admin' },
    });
    expect(renamed.data).toMatchObject({ name: 'Ann B.', role: 'system_admin' });
  });

  it('rejects a duplicate email with 409 and a weak password with 400, writing nothing', async () => {
    await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'bo@example.com', password: PASSWORD, role: 'user' },
    });
    const before = dbDigest(t.raw);
    const duplicate = await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'BO@example.com', password: PASSWORD, role: 'user' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('conflict');
    const short = await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'cy@example.com', password: 'fourteen chars', role: 'user' },
    });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toBe('password: password must be at least 15 characters');
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('forbids plain users any user administration', async () => {
    const user = await t.userWithToken(admin, 'cal@example.com');
    await t.call('GET', '/api/v1/me', { token: user.token }); // its first use records last_used_at
    const before = dbDigest(t.raw);
    for (const [method, path, body] of [
      ['GET', '/api/v1/users', undefined],
      ['POST', '/api/v1/users', { email: 'x@example.com', password: PASSWORD, role: 'system_admin' }],
      ['PATCH', `/api/v1/users/${user.id}`, { role: 'system_admin' }],
      ['POST', '/api/v1/teams', { name: 'Mine' }],
    ] as const) {
      const response = await t.call(method, path, { token: user.token, body });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.error.code).toBe('insufficient_permission');
    }
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('confines a team admin to their own team', async () => {
    const red = await createTeam('Red');
    const blue = await createTeam('Blue');
    const lead = await t.userWithToken(admin, 'lead@example.com', { role: 'team_admin', team_id: red });
    const outsider = await t.userWithToken(admin, 'blue@example.com', { team_id: blue });

    const member = await t.api(lead.token).POST('/api/v1/users', {
      body: { email: 'red1@example.com', password: PASSWORD, role: 'user' },
    });
    expect(member.response.status).toBe(201);
    expect(member.data?.team_id).toBe(red);
    const memberId = member.data!.id;

    const listed = await t.api(lead.token).GET('/api/v1/users');
    expect(listed.data?.users.map((user) => user.email).sort()).toEqual([
      'lead@example.com',
      'red1@example.com',
    ]);
    expect((await t.api(lead.token).GET('/api/v1/teams')).data?.teams).toEqual([
      expect.objectContaining({ id: red, name: 'Red' }),
    ]);

    const before = dbDigest(t.raw);
    expect(
      (
        await t.call('POST', '/api/v1/users', {
          token: lead.token,
          body: { email: 'x@example.com', password: PASSWORD, role: 'system_admin' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await t.call('POST', '/api/v1/users', {
          token: lead.token,
          body: { email: 'x@example.com', password: PASSWORD, role: 'user', team_id: blue },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await t.call('PATCH', `/api/v1/users/${outsider.id}`, {
          token: lead.token,
          body: { is_active: false },
        })
      ).status,
    ).toBe(404);
    expect((await t.call('GET', `/api/v1/users/${outsider.id}`, { token: lead.token })).status).toBe(404);
    expect(
      (
        await t.call('PATCH', `/api/v1/users/${memberId}`, {
          token: lead.token,
          body: { role: 'system_admin' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await t.call('PATCH', `/api/v1/users/${memberId}`, {
          token: lead.token,
          body: { team_id: blue },
        })
      ).status,
    ).toBe(403);
    expect(dbDigest(t.raw)).toBe(before);

    const deactivated = await t.api(lead.token).PATCH('/api/v1/users/{id}', {
      params: { path: { id: memberId } },
      body: { is_active: false },
    });
    expect(deactivated.data?.is_active).toBe(false);
  });

  it('requires a team for a team admin', async () => {
    const response = await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'ta@example.com', password: PASSWORD, role: 'team_admin' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/team_id/);
    const unknownTeam = await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'ta@example.com', password: PASSWORD, role: 'user', team_id: crypto.randomUUID() },
    });
    expect(unknownTeam.status).toBe(400);
  });

  it('does not let an admin lock themselves out', async () => {
    const me = (await t.api(admin).GET('/api/v1/me')).data!;
    expect(
      (await t.call('PATCH', `/api/v1/users/${me.id}`, { token: admin, body: { is_active: false } })).status,
    ).toBe(409);
    expect(
      (await t.call('PATCH', `/api/v1/users/${me.id}`, { token: admin, body: { role: 'user' } })).status,
    ).toBe(409);
    expect(
      (await t.call('PATCH', `/api/v1/users/${me.id}`, { token: admin, body: { name: 'Root' } })).status,
    ).toBe(200);
  });

  it('lets an admin set a new password, after which the old one fails', async () => {
    const user = await t.userWithToken(admin, 'dee@example.com');
    const changed = await t.call('PATCH', `/api/v1/users/${user.id}`, {
      token: admin,
      body: { password: 'another good passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'dee@example.com', password: PASSWORD },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'dee@example.com', password: 'another good passphrase' },
        })
      ).status,
    ).toBe(201);
  });

  it('refuses an empty patch and unknown fields', async () => {
    const user = await t.userWithToken(admin, 'eve@example.com');
    expect((await t.call('PATCH', `/api/v1/users/${user.id}`, { token: admin, body: {} })).status).toBe(400);
    const unknown = await t.call('PATCH', `/api/v1/users/${user.id}`, {
      token: admin,
      body: { email: 'other@example.com' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('unknown field: email');
  });
});
