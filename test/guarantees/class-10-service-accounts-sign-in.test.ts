import { beforeEach, describe, expect, it } from 'vitest';
import { epochSeconds } from '../../src/clock';
import { mintOpaqueToken } from '../../src/tokens/opaque';
import { PASSWORD, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const cookieOf = (response: Response, name: string) => {
  const line = response.headers.getSetCookie().find((candidate) => candidate.startsWith(`${name}=`));
  return line === undefined ? undefined : (line.split(';')[0] ?? '').slice(name.length + 1);
};

describe('class 10: Service accounts can be given a password and sign in', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: string; token: string };
  let base: string;
  let service: { id: string; email: string };

  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    alice = await t.userWithToken(admin, 'alice@example.com');
    base = await t.createBase(alice.token, 'CRM');
    const created = await t.call('POST', '/api/v1/service-accounts', {
      token: admin,
      body: { name: 'sync' },
    });
    service = { id: created.body.id, email: created.body.email };
    await t.call('PUT', `/api/v1/bases/${base}/members/${service.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { service_account_max_permission: 'r' },
    });
  });

  /** What an older version let happen: a service account with a password (set through PATCH /users). */
  async function legacyPassword() {
    const hash = await t.deps.passwords.hash(PASSWORD);
    t.raw.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, service.id);
  }

  /** ...and an Account-Token of it. */
  async function legacyAccountToken() {
    const minted = await mintOpaqueToken('account');
    t.raw
      .prepare(
        `INSERT INTO account_tokens (id, user_id, name, secret_hash, created_at, expires_at, last_used_at, revoked_at)
         VALUES (?, ?, 'legacy', ?, ?, NULL, NULL, NULL)`,
      )
      .run(minted.id, service.id, minted.hash, epochSeconds(t.clock));
    return minted.token;
  }

  it('refuses to set a password for a service account, changing nothing', async () => {
    const before = dbDigest(t.raw);
    const refused = await t.call('PATCH', `/api/v1/users/${service.id}`, {
      token: admin,
      body: { password: 'another good passphrase' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    const mixed = await t.call('PATCH', `/api/v1/users/${service.id}`, {
      token: admin,
      body: { name: 'renamed', password: 'another good passphrase' },
    });
    expect(mixed.status).toBe(400);
    expect(dbDigest(t.raw)).toBe(before);
    // Other changes still work.
    expect(
      (await t.call('PATCH', `/api/v1/users/${service.id}`, { token: admin, body: { name: 'renamed' } }))
        .status,
    ).toBe(200);
  });

  it('never signs a service account in, on any path, answering exactly as for a wrong password', async () => {
    await legacyPassword();
    const before = dbDigest(t.raw);

    const native = (email: string, password: string) =>
      t.call('POST', '/api/v1/account-tokens', { body: { email, password } });
    const wrong = await native('alice@example.com', 'not the right password');
    const svc = await native(service.email, PASSWORD);
    expect(svc.status).toBe(401);
    expect(svc.body.error.code).toBe(wrong.body.error.code);
    expect(svc.body.error.message).toBe(wrong.body.error.message);

    const seatable = (username: string, password: string) =>
      t.call('POST', '/api2/auth-token/', { body: { username, password } });
    const wrongSeaTable = await seatable('alice@example.com', 'not the right password');
    const svcSeaTable = await seatable(service.email, PASSWORD);
    expect(svcSeaTable.status).toBe(wrongSeaTable.status);
    expect(svcSeaTable.body).toEqual(wrongSeaTable.body);

    const ui = async (email: string, password: string) => {
      const page = await t.app.request('/ui/login');
      const pre = cookieOf(page, 'tl_ui_signin')!;
      const response = await t.app.request('/ui/login', {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrfOf(await page.text()), email, password }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `tl_ui_signin=${pre}`,
          origin: 'http://localhost',
        },
      });
      return { status: response.status, session: cookieOf(response, 'tl_ui_session') };
    };
    const wrongUi = await ui('alice@example.com', 'not the right password');
    const svcUi = await ui(service.email, PASSWORD);
    expect(svcUi).toEqual(wrongUi);
    expect(svcUi.status).toBe(401);

    expect(dbDigest(t.raw)).toBe(before);
  });

  it('refuses an Account-Token of a service account that exists from before, everywhere', async () => {
    const token = await legacyAccountToken();
    const before = dbDigest(t.raw);
    expect((await t.call('GET', '/api/v1/me', { token })).status).toBe(401);
    // The exchange it would have made escapes service_account_max_permission ('r'): rw.
    const exchanged = await t.call('POST', '/api/v1/base-tokens', { token, body: { base_uuid: base } });
    expect(exchanged.status).toBe(401);
    expect((await t.call('GET', '/api2/account/info/', { token })).status).toBe(401);
    const page = await t.app.request('/ui/bases', { headers: { cookie: `tl_ui_session=${token}` } });
    expect(page.status).toBe(303);
    expect(dbDigest(t.raw)).toBe(before);
  });

  // SeaTable's temporary API-Token (src/tokens/temp-api-tokens.ts), driven as in class 4's test.
  const aliceWorkspace = async () =>
    (await t.call('GET', '/api/v1/workspaces', { token: alice.token })).body.workspaces[0].id as string;
  const seatable = async (path: string, credential: string) => {
    const response = await t.app.request(path, { headers: { authorization: `Token ${credential}` } });
    return { status: response.status, body: await response.json() };
  };
  const tempPath = (workspace: string) => `/api/v2.1/workspace/${workspace}/dtable/CRM/temp-api-token/`;
  const exchangePath = '/api/v2.1/dtable/app-access-token/';

  it('refuses to make a temporary API-Token with a service account’s Account-Token, changing nothing', async () => {
    const token = await legacyAccountToken();
    const path = tempPath(await aliceWorkspace());
    // The route works for a person on the same base.
    expect((await seatable(path, alice.token)).status).toBe(200);
    const before = dbDigest(t.raw);
    const refused = await seatable(path, token);
    expect(refused.status).toBe(401);
    expect(refused.body.api_token).toBeUndefined();
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('refuses to exchange a temporary API-Token of a service account made by an older version, changing nothing', async () => {
    const token = await legacyAccountToken();
    const path = tempPath(await aliceWorkspace());
    // What an older version let happen: the service account's Account-Token made a temporary token
    // (it passed for a person then).
    t.raw.prepare("UPDATE users SET kind = 'person' WHERE id = ?").run(service.id);
    const minted = await seatable(path, token);
    t.raw.prepare("UPDATE users SET kind = 'service' WHERE id = ?").run(service.id);
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    const temp = minted.body.api_token as string;

    const before = dbDigest(t.raw);
    const refused = await seatable(exchangePath, temp);
    expect(refused.status).toBe(401);
    expect(refused.body.access_token).toBeUndefined();
    // Nor does it pass as a credential anywhere else.
    expect((await t.call('GET', '/api/v1/me', { token: temp })).status).toBe(401);
    expect(
      (await t.call('POST', '/api/v1/base-tokens', { token: temp, body: { base_uuid: base } })).status,
    ).toBe(401);
    expect((await seatable('/api2/account/info/', temp)).status).toBe(401);
    expect(dbDigest(t.raw)).toBe(before);
  });
});
