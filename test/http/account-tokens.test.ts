import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN, PASSWORD, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { errorBody } from '../helpers/errors';

describe('Account-Tokens', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });

  it('answers unknown email, wrong password and deactivated account identically, after one hash each', async () => {
    const admin = await t.login();
    const user = await t.userWithToken(admin, 'dora@example.com');
    await t.call('PATCH', `/api/v1/users/${user.id}`, { token: admin, body: { is_active: false } });
    const before = dbDigest(t.raw);
    const verify = vi.spyOn(t.deps.passwords, 'verify');

    const attempts = [
      { email: 'nobody@example.com', password: PASSWORD },
      { email: ADMIN.email, password: 'wrong password, long enough' },
      { email: 'dora@example.com', password: PASSWORD },
    ];
    const responses = [];
    for (const body of attempts) responses.push(await t.call('POST', '/api/v1/account-tokens', { body }));
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual(errorBody('invalid_credentials', 'email or password is incorrect'));
    }
    expect(verify).toHaveBeenCalledTimes(3);
    expect(verify.mock.calls[0]![1]).toBeNull(); // unknown email: the dummy hash path
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('matches emails case-insensitively and passwords after NFKC normalisation', async () => {
    const admin = await t.login();
    // "ﬁ" (U+FB01) and full-width letters normalise to plain ASCII under NFKC.
    await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'Erin@Example.com', password: 'ﬁne Ｐassphrase here', role: 'user' },
    });
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: ' erin@EXAMPLE.com ', password: 'fine Passphrase here' },
        })
      ).status,
    ).toBe(201);
  });

  it('refuses an over-long password without hashing it', async () => {
    const verify = vi.spyOn(t.deps.passwords, 'verify');
    const response = await t.call('POST', '/api/v1/account-tokens', {
      body: { email: ADMIN.email, password: 'x'.repeat(129) },
    });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('invalid_credentials');
    expect(verify).not.toHaveBeenCalled();
  });

  it('does not truncate passwords', async () => {
    const admin = await t.login();
    const long = 'p'.repeat(100);
    await t.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'long@example.com', password: long, role: 'user' },
    });
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'long@example.com', password: long.slice(0, 72) },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'long@example.com', password: long },
        })
      ).status,
    ).toBe(201);
  });

  it("lists the caller's tokens without secrets and revokes one at once", async () => {
    const first = await t.login();
    const second = await t.login();
    const list = await t.api(first).GET('/api/v1/account-tokens');
    expect(list.response.status).toBe(200);
    const tokens = list.data!.account_tokens;
    expect(tokens).toHaveLength(2);
    expect(JSON.stringify(list.data)).not.toContain(first);
    expect(JSON.stringify(list.data)).not.toContain(second);
    const firstId = (await t.api(first).GET('/api/v1/me')).data?.account_token_id;
    const current = tokens.find((token) => token.current);
    expect(tokens.filter((token) => token.current)).toHaveLength(1);
    expect(current).toEqual({
      id: firstId,
      name: 'default',
      created_at: expect.any(String),
      expires_at: null,
      last_used_at: '2026-11-01T12:00:00Z',
      current: true,
    });

    const secondId = tokens.find((token) => !token.current)!.id;
    expect((await t.call('DELETE', `/api/v1/account-tokens/${secondId}`, { token: first })).status).toBe(204);
    const revoked = await t.call('GET', '/api/v1/me', { token: second });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('token_revoked');
    expect((await t.call('DELETE', `/api/v1/account-tokens/${secondId}`, { token: first })).status).toBe(404);
  });

  it("cannot revoke someone else's Account-Token (404, and it keeps working)", async () => {
    const admin = await t.login();
    const user = await t.userWithToken(admin, 'fay@example.com');
    const adminTokenId = (await t.api(admin).GET('/api/v1/me')).data!.account_token_id;
    expect(
      (await t.call('DELETE', `/api/v1/account-tokens/${adminTokenId}`, { token: user.token })).status,
    ).toBe(404);
    expect((await t.call('GET', '/api/v1/me', { token: admin })).status).toBe(200);
  });

  it('records last use to the minute, without a write on every request', async () => {
    const token = await t.login();
    const lastUsed = () =>
      (t.raw.prepare('SELECT last_used_at FROM account_tokens').get() as { last_used_at: number | null })
        .last_used_at;
    expect(lastUsed()).toBeNull();
    await t.call('GET', '/api/v1/me', { token });
    const first = lastUsed();
    t.clock.advance(30);
    await t.call('GET', '/api/v1/me', { token });
    expect(lastUsed()).toBe(first);
    t.clock.advance(31);
    await t.call('GET', '/api/v1/me', { token });
    expect(lastUsed()).toBe(first! + 61);
  });

  it('never expires by default, and expires after the configured maximum age', async () => {
    const token = await t.login();
    t.clock.advance(10 * 365 * 86400);
    expect((await t.call('GET', '/api/v1/me', { token })).status).toBe(200);

    const limited = await testApp({ config: { accountTokenMaxAgeSeconds: 3600 } });
    const signIn = await limited.call('POST', '/api/v1/account-tokens', { body: ADMIN });
    expect(signIn.body.expires_at).toBe('2026-11-01T13:00:00Z');
    limited.clock.advance(3599);
    expect((await limited.call('GET', '/api/v1/me', { token: signIn.body.token })).status).toBe(200);
    limited.clock.advance(1);
    const expired = await limited.call('GET', '/api/v1/me', { token: signIn.body.token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('token_expired');
  });

  it('expires when the sign-in asks for it, never later than the configured maximum', async () => {
    const week = await t.call('POST', '/api/v1/account-tokens', { body: { ...ADMIN, expires_in_days: 7 } });
    expect(week.body.expires_at).toBe('2026-11-08T12:00:00Z');
    t.clock.advance(7 * 86400);
    expect((await t.call('GET', '/api/v1/me', { token: week.body.token })).body.error.code).toBe(
      'token_expired',
    );

    const limited = await testApp({ config: { accountTokenMaxAgeSeconds: 86400 } });
    const capped = await limited.call('POST', '/api/v1/account-tokens', {
      body: { ...ADMIN, expires_in_days: 30 },
    });
    expect(capped.body.expires_at).toBe('2026-11-02T12:00:00Z');
    expect(
      (await t.call('POST', '/api/v1/account-tokens', { body: { ...ADMIN, expires_in_days: 0 } })).status,
    ).toBe(400);
  });

  it('stops every token of a deactivated user without deleting them, and restores them on reactivation', async () => {
    const admin = await t.login();
    const user = await t.userWithToken(admin, 'gus@example.com');
    const baseUuid = await t.createBase(user.token, 'Gus base');
    const api = await t.createApiToken(user.token, baseUuid, 'gus job', 'rw');

    await t.call('PATCH', `/api/v1/users/${user.id}`, { token: admin, body: { is_active: false } });
    const me = await t.call('GET', '/api/v1/me', { token: user.token });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('account_disabled');
    const exchange = await t.call('POST', '/api/v1/base-tokens', { token: api.token });
    expect(exchange.status).toBe(401);
    expect(exchange.body.error.code).toBe('account_disabled');
    expect(t.raw.prepare('SELECT count(*) AS n FROM account_tokens WHERE user_id = ?').get(user.id)).toEqual({
      n: 1,
    });

    await t.call('PATCH', `/api/v1/users/${user.id}`, { token: admin, body: { is_active: true } });
    expect((await t.call('GET', '/api/v1/me', { token: user.token })).status).toBe(200);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).status).toBe(201);
  });

  it('rehashes a password made with older parameters at the next sign-in', async () => {
    const older = await testApp({ config: { scrypt: { ln: 10, r: 8, p: 1 } } });
    const stronger = await testApp({ config: { scrypt: { ln: 11, r: 8, p: 1 } } });
    const hashOf = (app: TestApp) =>
      (app.raw.prepare('SELECT password_hash FROM users').get() as { password_hash: string }).password_hash;
    // Move the older hash into the stronger deployment, as an upgrade would.
    stronger.raw.prepare('UPDATE users SET password_hash = ?').run(hashOf(older));
    expect(hashOf(stronger)).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    await stronger.login();
    expect(hashOf(stronger)).toMatch(/^\$scrypt\$ln=11,r=8,p=1\$/);
    await stronger.login();
  });
});
