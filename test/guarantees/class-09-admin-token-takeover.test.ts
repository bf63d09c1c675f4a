import { describe, expect, it } from 'vitest';
import { ADMIN, testApp, type TestApp } from '../helpers/app';
import { dbDigest, LAST_USED_COLUMNS } from '../helpers/db-digest';

// Issue 13, class 9: administering a token may disable or revoke it; only its owner obtains a secret.
// A base admin (or a system admin) regenerating someone else's API-Token gets 403 and changes nothing,
// on the API and in the UI; the UI offers Regenerate to the owner only.

async function setup() {
  const t = await testApp();
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const bob = await t.userWithToken(admin, 'bob@example.com');
  const adminId = (await t.call('GET', '/api/v1/me', { token: admin })).body.id as string;
  const base = await t.createBase(alice.token, 'Projects');
  // Bob administers Alice's base; the system admin is a member too.
  for (const [id, permission] of [
    [bob.id, 'admin'],
    [adminId, 'rw'],
  ] as const) {
    const added = await t.call('PUT', `/api/v1/bases/${base}/members/${id}`, {
      token: alice.token,
      body: { permission },
    });
    expect(added.status, JSON.stringify(added.body)).toBeLessThan(300);
  }
  const alicesToken = await t.createApiToken(alice.token, base, 'alice job', 'rw');
  const adminsToken = await t.createApiToken(admin, base, 'admin job', 'rw');
  return { t, admin, alice, bob, base, alicesToken, adminsToken };
}

const exchange = (t: TestApp, secret: string) => t.call('POST', '/api/v1/base-tokens', { token: secret });

/** The refusal, and that nothing changed: no new secret, the old one still works, no feed entry. */
async function expectRefused(t: TestApp, caller: string, token: { id: string; token: string }) {
  await t.call('GET', '/api/v1/me', { token: caller });
  const before = dbDigest(t.raw, { ignoreColumns: LAST_USED_COLUMNS });
  for (const body of [{}, { grace_seconds: 3600 }]) {
    const answer = await t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: caller, body });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('insufficient_permission');
    expect(JSON.stringify(answer.body)).not.toMatch(/tl_api_/);
  }
  expect(dbDigest(t.raw, { ignoreColumns: LAST_USED_COLUMNS })).toBe(before);
  expect((await exchange(t, token.token)).status).toBe(201);
}

describe("class 09: A base admin can take over another member's token", () => {
  it("refuses a base admin the secret of a member's token and of a system admin's token", async () => {
    const { t, bob, alicesToken, adminsToken } = await setup();
    await expectRefused(t, bob.token, alicesToken);
    await expectRefused(t, bob.token, adminsToken);
  });

  it("refuses a system admin the secret of a user's token", async () => {
    const { t, admin, alicesToken } = await setup();
    await expectRefused(t, admin, alicesToken);
  });

  it('still lets a base admin disable and delete the token, and its owner regenerate it', async () => {
    const { t, alice, bob, alicesToken, adminsToken } = await setup();
    const regenerated = await t.call('POST', `/api/v1/api-tokens/${alicesToken.id}/regenerate`, {
      token: alice.token,
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.token).toMatch(/^tl_api_/);
    const disabled = await t.call('PATCH', `/api/v1/api-tokens/${adminsToken.id}`, {
      token: bob.token,
      body: { enabled: false },
    });
    expect(disabled.status).toBe(200);
    expect(
      (await t.call('DELETE', `/api/v1/api-tokens/${alicesToken.id}`, { token: bob.token })).status,
    ).toBe(204);
  });

  it('lets a system admin regenerate a service account’s token: the one who mints its tokens', async () => {
    const { t, admin, alice, base } = await setup();
    const service = (
      await t.call('POST', '/api/v1/service-accounts', { token: admin, body: { name: 'sync' } })
    ).body.id as string;
    await t.call('PUT', `/api/v1/bases/${base}/members/${service}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const token = await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
      token: admin,
      body: { name: 'sync', permission: 'rw', resources: { type: 'base', base_uuid: base } },
    });
    expect(token.status).toBe(201);
    // A base admin is not its steward.
    await expectRefused(t, alice.token, token.body);
    const regenerated = await t.call('POST', `/api/v1/api-tokens/${token.body.id}/regenerate`, {
      token: admin,
    });
    expect(regenerated.status).toBe(200);
  });

  it('offers Regenerate in the UI to the owner only, and refuses anyone else with 403 and no change', async () => {
    const { t, alice, base, alicesToken } = await setup();
    const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const cookieOf = (response: Response, name: string) =>
      (response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`)) ?? '')
        .split(';')[0]!
        .slice(name.length + 1);
    async function signIn(email: string, password: string) {
      const page = await t.app.request('http://localhost/ui/login');
      const response = await t.app.request('http://localhost/ui/login', {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrfOf(await page.text()), email, password }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `tl_ui_signin=${cookieOf(page, 'tl_ui_signin')}`,
          origin: 'http://localhost',
        },
      });
      expect(response.status).toBe(303);
      return `tl_ui_session=${cookieOf(response, 'tl_ui_session')}`;
    }
    const pagePath = `/ui/bases/${base}/tokens/${alicesToken.id}`;
    const regenerateAs = async (cookie: string, csrf: string) =>
      t.app.request(`http://localhost${pagePath}/regenerate`, {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrf }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'http://localhost' },
      });

    const bobCookie = await signIn('bob@example.com', 'a perfectly fine passphrase');
    const bobPage = await t.app.request(pagePath, { headers: { cookie: bobCookie } });
    expect(bobPage.status).toBe(200);
    const bobHtml = await bobPage.text();
    expect(bobHtml).toContain('alice job');
    expect(bobHtml).not.toContain(`${pagePath}/regenerate`);
    const before = dbDigest(t.raw, { ignoreColumns: LAST_USED_COLUMNS });
    const refused = await regenerateAs(bobCookie, csrfOf(bobHtml));
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toMatch(/tl_api_/);
    expect(dbDigest(t.raw, { ignoreColumns: LAST_USED_COLUMNS })).toBe(before);
    expect((await exchange(t, alicesToken.token)).status).toBe(201);

    const adminCookie = await signIn(ADMIN.email, ADMIN.password);
    const adminHtml = await (await t.app.request(pagePath, { headers: { cookie: adminCookie } })).text();
    expect(adminHtml).not.toContain(`${pagePath}/regenerate`);

    const aliceCookie = await signIn('alice@example.com', 'a perfectly fine passphrase');
    const aliceHtml = await (await t.app.request(pagePath, { headers: { cookie: aliceCookie } })).text();
    expect(aliceHtml).toContain(`${pagePath}/regenerate`);
    const done = await regenerateAs(aliceCookie, csrfOf(aliceHtml));
    expect(done.status).toBe(200);
    expect(await done.text()).toMatch(/tl_api_/);
    expect(alice.token).toBeDefined();
  });
});
