import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, PASSWORD, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

/** The /ui pages through app.request: sessions, CSRF, and that secrets never reach a list page. */
describe('web UI (server side)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });

  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const cookieOf = (response: Response, name: string) => {
    const line = response.headers.getSetCookie().find((candidate) => candidate.startsWith(`${name}=`));
    return line === undefined ? undefined : (line.split(';')[0] ?? '').slice(name.length + 1);
  };

  async function form(
    path: string,
    fields: Record<string, string | string[]>,
    cookie: string,
    headers: Record<string, string> = {},
  ) {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(fields))
      for (const item of [value].flat()) body.append(key, item);
    return t.app.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
    });
  }

  /** Signs in through the form; returns the cookie header and this session's CSRF token. */
  async function signIn(email = ADMIN.email, password = ADMIN.password, base = 'http://localhost') {
    const page = await t.app.request(`${base}/ui/login`);
    const pre = cookieOf(page, 'tl_ui_signin')!;
    const response = await t.app.request(`${base}/ui/login`, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: csrfOf(await page.text()), email, password }),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `tl_ui_signin=${pre}`,
        origin: base,
      },
    });
    expect(response.status).toBe(303);
    const session = cookieOf(response, 'tl_ui_session')!;
    const cookie = `tl_ui_session=${session}`;
    const bases = await t.app.request('/ui/bases', { headers: { cookie } });
    return { response, session, cookie, csrf: csrfOf(await bases.text()) };
  }

  it('sends visitors without a session to the sign-in page', async () => {
    for (const path of ['/ui', '/ui/bases', '/ui/account-tokens', '/ui/admin/users']) {
      const response = await t.app.request(path);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/ui\/(bases|login)$/);
    }
    const bogus = await t.app.request('/ui/bases', { headers: { cookie: 'tl_ui_session=tl_acc_nonsense' } });
    expect(bogus.status).toBe(303);
    expect(bogus.headers.get('location')).toBe('/ui/login?notice=session-ended');
    const post = await form('/ui/bases', { name: 'x' }, '');
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe('/ui/login');
  });

  it('serves pages with a strict CSP, no caching, lang and labelled inputs', async () => {
    const response = await t.app.request('/ui/login');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const html = await response.text();
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en">/);
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|style="/);
    for (const id of ['email', 'password']) expect(html).toContain(`<label for="${id}">`);
    const script = await t.app.request('/ui/assets/app.js');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('signs in with an Account-Token cookie (HttpOnly, SameSite=Strict, Path=/ui, Secure over https) listed as "Web session"', async () => {
    const { response, session } = await signIn();
    expect(response.headers.get('location')).toBe('/ui/bases');
    const line = response.headers.getSetCookie().find((value) => value.startsWith('tl_ui_session='))!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).toMatch(/Path=\/ui(;|$)/);
    expect(line).not.toMatch(/Secure/);
    expect(session).toMatch(/^tl_acc_/);
    const listed = await t.call('GET', '/api/v1/account-tokens', { token: session });
    expect(listed.body.account_tokens.map((token: { name: string }) => token.name)).toEqual(['Web session']);
    expect(listed.body.account_tokens[0].expires_at).not.toBeNull();

    const secure = await signIn(ADMIN.email, ADMIN.password, 'https://tokenladder.example');
    expect(
      secure.response.headers.getSetCookie().find((value) => value.startsWith('tl_ui_session=')),
    ).toMatch(/; Secure/);
  });

  it('answers a wrong password generically and refuses a sign-in form without its CSRF token', async () => {
    const page = await t.app.request('/ui/login');
    const pre = cookieOf(page, 'tl_ui_signin')!;
    const csrf = csrfOf(await page.text());
    const before = dbDigest(t.raw);
    const wrong = await form(
      '/ui/login',
      { _csrf: csrf, email: ADMIN.email, password: 'not the password at all' },
      `tl_ui_signin=${pre}`,
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Email or password is incorrect.');
    const unknown = await form(
      '/ui/login',
      { _csrf: csrf, email: 'nobody@example.com', password: 'whatever it is here' },
      `tl_ui_signin=${pre}`,
    );
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain('Email or password is incorrect.');
    const forged = await form(
      '/ui/login',
      { _csrf: 'forged', email: ADMIN.email, password: ADMIN.password },
      `tl_ui_signin=${pre}`,
    );
    expect(forged.status).toBe(403);
    expect(cookieOf(forged, 'tl_ui_session')).toBeUndefined();
    const noCookie = await form(
      '/ui/login',
      { _csrf: csrf, email: ADMIN.email, password: ADMIN.password },
      '',
    );
    expect(noCookie.status).toBe(403);
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('shows the throttling message (429, Retry-After) once sign-in attempts run over the limit', async () => {
    t = await testApp({
      config: { loginThrottle: { accountLimit: 2, addressLimit: 1000, windowSeconds: 900 } },
    });
    const page = await t.app.request('/ui/login');
    const cookie = `tl_ui_signin=${cookieOf(page, 'tl_ui_signin')!}`;
    const csrf = csrfOf(await page.text());
    for (let i = 0; i < 2; i++)
      expect(
        (await form('/ui/login', { _csrf: csrf, email: ADMIN.email, password: 'wrong wrong wrong' }, cookie))
          .status,
      ).toBe(401);
    const throttled = await form(
      '/ui/login',
      { _csrf: csrf, email: ADMIN.email, password: ADMIN.password },
      cookie,
    );
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await throttled.text()).toMatch(/Too many sign-in attempts\. Try again in \d+ seconds\./);
    expect(cookieOf(throttled, 'tl_ui_session')).toBeUndefined();
  });

  it('rejects state-changing forms without the CSRF token, with a wrong one, or from another origin (403, nothing changed)', async () => {
    const { cookie, csrf } = await signIn();
    expect(csrf).not.toBe('');
    const before = dbDigest(t.raw);
    for (const [fields, headers] of [
      [{ name: 'Inventory' }, {}],
      [{ name: 'Inventory', _csrf: 'wrong' }, {}],
      [{ name: 'Inventory', _csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` }, {}],
      [{ name: 'Inventory', _csrf: csrf }, { origin: 'https://evil.example' }],
      [{ name: 'Inventory', _csrf: csrf }, { 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const response = await form('/ui/bases', fields, cookie, headers);
      expect(response.status).toBe(403);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    const json = await t.app.request('/ui/bases', {
      method: 'POST',
      body: JSON.stringify({ name: 'Inventory', _csrf: csrf }),
      headers: { 'content-type': 'application/json', cookie },
    });
    expect(json.status).toBe(403);
    const signOut = await form('/ui/logout', {}, cookie);
    expect(signOut.status).toBe(403);
    expect(dbDigest(t.raw)).toBe(before);

    const ok = await form('/ui/bases', { name: 'Inventory', _csrf: csrf }, cookie, {
      origin: 'http://localhost',
    });
    expect(ok.status).toBe(303);
  });

  it('shows a new secret once, in the POST response only; list and token pages never carry it', async () => {
    const { cookie, csrf, session } = await signIn();
    const created = await form('/ui/bases', { name: 'Inventory', _csrf: csrf }, cookie);
    const baseUrl = created.headers.get('location')!.split('?')[0]!;
    const made = await form(
      `${baseUrl}/tokens`,
      { name: 'nightly', permission: 'rw', expires: '30', _csrf: csrf },
      cookie,
    );
    expect(made.status).toBe(200);
    const html = await made.text();
    const secret = /id="secret-value"[^>]* value="(tl_api_[^"]+)"/.exec(html)?.[1];
    expect(secret).toMatch(/^tl_api_/);
    expect(made.headers.get('cache-control')).toBe('no-store');

    const exchange = await t.call('POST', '/api/v1/base-tokens', { token: secret });
    expect(exchange.status).toBe(201);
    expect(exchange.body.permission).toBe('rw');

    const list = await (await t.app.request(baseUrl, { headers: { cookie } })).text();
    expect(list).toContain('nightly');
    expect(list).not.toContain(secret);
    expect(list).not.toContain('tl_api_');
    const id = (await t.call('GET', '/api/v1/api-tokens', { token: session })).body.api_tokens[0].id;
    const page = await (await t.app.request(`${baseUrl}/tokens/${id}`, { headers: { cookie } })).text();
    expect(page).not.toContain('tl_api_');
    expect(page).not.toContain(session);

    // Deactivate through the form: the API refuses the token; a duplicate name is a form error.
    const off = await form(`${baseUrl}/tokens/${id}/enabled`, { enabled: 'false', _csrf: csrf }, cookie);
    expect(off.status).toBe(303);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: secret })).status).toBe(401);
    const duplicate = await form(
      `${baseUrl}/tokens`,
      { name: 'nightly', permission: 'r', expires: 'never', _csrf: csrf },
      cookie,
    );
    expect(duplicate.status).toBe(409);

    // Bulk delete asks first (GET changes nothing), then deletes.
    const ask = await t.app.request(`${baseUrl}/delete?ids=${id}`, { headers: { cookie } });
    expect(ask.status).toBe(200);
    expect((await t.call('GET', `/api/v1/api-tokens/${id}`, { token: session })).status).toBe(200);
    const gone = await form(`${baseUrl}/delete`, { ids: [id], _csrf: csrf }, cookie);
    expect(gone.status).toBe(303);
    expect((await t.call('GET', `/api/v1/api-tokens/${id}`, { token: session })).status).toBe(404);
  });

  it('creates a token bound to networks; the token page shows them, a bad entry is a form error', async () => {
    const { cookie, csrf, session } = await signIn();
    const created = await form('/ui/bases', { name: 'Inventory', _csrf: csrf }, cookie);
    const baseUrl = created.headers.get('location')!.split('?')[0]!;
    const bad = await form(
      `${baseUrl}/tokens`,
      { name: 'office', permission: 'r', expires: '30', networks: '10.0.0.1/8', _csrf: csrf },
      cookie,
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('host bits are set');
    const made = await form(
      `${baseUrl}/tokens`,
      {
        name: 'office',
        permission: 'r',
        expires: '30',
        networks: '203.0.113.0/24,\n2001:DB8::/48',
        _csrf: csrf,
      },
      cookie,
    );
    expect(made.status).toBe(200);
    const token = (await t.call('GET', '/api/v1/api-tokens', { token: session })).body.api_tokens[0];
    expect(token.allowed_networks).toEqual(['203.0.113.0/24', '2001:db8::/48']);
    const page = await (await t.app.request(`${baseUrl}/tokens/${token.id}`, { headers: { cookie } })).text();
    expect(page).toContain('203.0.113.0/24, 2001:db8::/48');
  });

  it("creates a token with custom scopes through the API's schema; the token page lists them", async () => {
    const { cookie, csrf, session } = await signIn();
    const baseUrl = (await form('/ui/bases', { name: 'Inventory', _csrf: csrf }, cookie)).headers
      .get('location')!
      .split('?')[0]!;
    const page = await (await t.app.request(baseUrl, { headers: { cookie } })).text();
    expect(page).toContain('value="custom"');
    for (const id of [
      'scope-records-create',
      'scope-records-read',
      'scope-records-update',
      'scope-records-delete',
      'scope-comments',
      'scope-users',
    ]) {
      expect(page).toContain(`for="${id}"`);
      expect(page).toContain(`id="${id}"`);
    }
    expect(page).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|style="/);

    const made = await form(
      `${baseUrl}/tokens`,
      {
        name: 'importer',
        permission: 'custom',
        expires: '30',
        records: ['read', 'create', 'read'],
        scope_comments: 'r',
        scope_webhooks: 'rw',
        scope_tables: '',
        _csrf: csrf,
      },
      cookie,
    );
    expect(made.status).toBe(200);
    const secret = /id="secret-value"[^>]* value="(tl_api_[^"]+)"/.exec(await made.text())?.[1];
    expect(secret).toMatch(/^tl_api_/);
    const id = (await t.call('GET', '/api/v1/api-tokens', { token: session })).body.api_tokens[0].id;
    const token = await t.call('GET', `/api/v1/api-tokens/${id}`, { token: session });
    expect(token.status).toBe(200);
    expect(token.body.scopes).toEqual({
      v: 1,
      c: { records: 'rw', comments: 'r', webhooks: 'rw' },
      t: { create: ['*'], read: ['*'], update: [], delete: [] },
    });
    expect(Date.parse(token.body.expires_at) - Date.parse(token.body.created_at)).toBe(30 * 86400_000);
    const exchanged = await t.call('POST', '/api/v1/base-tokens', { token: secret });
    expect(exchanged.status).toBe(201);
    expect(exchanged.body.permission).toBe('custom');

    // Records read + comments read only: "Custom scopes" in the list (not "Read-only"), scopes on its page.
    const reader = await form(
      `${baseUrl}/tokens`,
      {
        name: 'reader',
        permission: 'custom',
        expires: 'never',
        records: 'read',
        scope_comments: 'r',
        _csrf: csrf,
      },
      cookie,
    );
    expect(reader.status).toBe(200);
    const readerId = (await t.call('GET', '/api/v1/api-tokens', { token: session })).body.api_tokens.find(
      (item: { name: string }) => item.name === 'reader',
    ).id;
    expect((await t.call('GET', `/api/v1/api-tokens/${readerId}`, { token: session })).body.scopes).toEqual({
      v: 1,
      c: { records: 'r', comments: 'r' },
    });
    const list = await (await t.app.request(baseUrl, { headers: { cookie } })).text();
    const row =
      /<tr id="token-[a-z2-7]+">(?:(?!<\/tr>).)*reader(?:(?!<\/tr>).)*<\/tr>/s.exec(list)?.[0] ?? '';
    expect(row).toContain('Custom scopes');
    const manage = (
      await (await t.app.request(`${baseUrl}/tokens/${id}`, { headers: { cookie } })).text()
    ).replace(/<[^>]+>/g, '');
    expect(manage).toContain('Records Create, Read (all tables)');
    expect(manage).toContain('Comments Read');
    expect(manage).toContain('Webhooks Read &amp; write');
    expect(manage).toContain('Users None');
  });

  it("refuses custom choices that grant nothing, are malformed or exceed the member's role (400/403, nothing created)", async () => {
    const admin = await signIn();
    const baseUrl = (await form('/ui/bases', { name: 'Inventory', _csrf: admin.csrf }, admin.cookie)).headers
      .get('location')!
      .split('?')[0]!;
    const uuid = baseUrl.split('/').pop()!;
    const adminToken = await t.login();
    const reader = await t.userWithToken(adminToken, 'reader@example.com');
    const writer = await t.userWithToken(adminToken, 'writer@example.com');
    await t.call('PUT', `/api/v1/bases/${uuid}/members/${reader.id}`, {
      token: adminToken,
      body: { permission: 'r' },
    });
    await t.call('PUT', `/api/v1/bases/${uuid}/members/${writer.id}`, {
      token: adminToken,
      body: { permission: 'rw' },
    });
    const asReader = await signIn('reader@example.com', PASSWORD);
    const asWriter = await signIn('writer@example.com', PASSWORD);
    const before = dbDigest(t.raw);

    const attempt = async (
      who: { cookie: string; csrf: string },
      fields: Record<string, string | string[]>,
    ) => {
      const response = await form(
        `${baseUrl}/tokens`,
        { name: 'custom-one', permission: 'custom', expires: '30', _csrf: who.csrf, ...fields },
        who.cookie,
      );
      return { status: response.status, html: await response.text() };
    };
    const nothing = await attempt(admin, {});
    expect(nothing.status).toBe(400);
    expect(nothing.html).toContain('Custom permissions: grant at least one category');
    expect(nothing.html).not.toContain('tl_api_');
    expect((await attempt(admin, { scope_comments: '', scope_users: '' })).status).toBe(400);
    const badLevel = await attempt(admin, { scope_comments: 'admin' });
    expect(badLevel.status).toBe(400);
    expect(badLevel.html).toContain('Custom permissions (comments)');
    expect((await attempt(admin, { records: 'purge' })).status).toBe(400);
    expect((await attempt(admin, { records: ['read', '__proto__'] })).status).toBe(400);
    expect((await attempt(admin, { permission: 'admin', scope_comments: 'r' })).status).toBe(400);

    // More than the member holds: the same 403 form error as Read & write for a read-only member.
    for (const fields of [
      { records: 'create' },
      { records: ['read', 'delete'] },
      { scope_comments: 'rw' },
    ] as Record<string, string | string[]>[]) {
      const refused = await attempt(asReader, fields);
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('role="alert"');
    }
    expect((await attempt(asReader, { permission: 'rw' })).status).toBe(403);
    expect((await attempt(asWriter, { scope_users: 'rw' })).status).toBe(403);
    expect((await attempt(asWriter, { records: 'read', scope_base: 'rw' })).status).toBe(403);
    expect(dbDigest(t.raw)).toBe(before);

    // Within the role it works, and only "Custom" uses the custom fields.
    expect((await attempt(asReader, { records: 'read', scope_comments: 'r' })).status).toBe(200);
    expect(
      (await attempt(asWriter, { name: 'plain', permission: 'r', records: 'delete', scope_users: 'rw' }))
        .status,
    ).toBe(200);
    const tokens = (await t.call('GET', `/api/v1/api-tokens?base_uuid=${uuid}`, { token: adminToken })).body
      .api_tokens;
    expect(
      tokens.map((token: { name: string; scopes: unknown }) => [token.name, token.scopes]).sort(),
    ).toEqual([
      ['custom-one', { v: 1, c: { records: 'r', comments: 'r' } }],
      ['plain', null],
    ]);
  });

  it('signs out by revoking the session Account-Token', async () => {
    const { cookie, csrf, session } = await signIn();
    const response = await form('/ui/logout', { _csrf: csrf }, cookie);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ui/login?notice=signed-out');
    expect(response.headers.getSetCookie().find((line) => line.startsWith('tl_ui_session='))).toMatch(
      /Max-Age=0/,
    );
    expect((await t.call('GET', '/api/v1/me', { token: session })).status).toBe(401);
    expect((await t.app.request('/ui/bases', { headers: { cookie } })).status).toBe(303);
  });

  it('shows the users page to system admins only', async () => {
    const admin = await signIn();
    const adminPage = await t.app.request('/ui/admin/users', { headers: { cookie: admin.cookie } });
    expect(adminPage.status).toBe(200);
    expect(await adminPage.text()).toContain(ADMIN.email);
    await t.userWithToken(await t.login(), 'someone@example.com');
    const user = await signIn('someone@example.com', PASSWORD);
    const denied = await t.app.request('/ui/admin/users', { headers: { cookie: user.cookie } });
    expect(denied.status).toBe(403);
    expect(await denied.text()).not.toContain(ADMIN.email);
  });
  it("shows the base's UUID with a copy button (shown by the script; the UUID is plain text without it)", async () => {
    const { cookie, csrf } = await signIn();
    const created = await form('/ui/bases', { name: 'Inventory', _csrf: csrf }, cookie);
    const baseUrl = created.headers.get('location')!.split('?')[0]!;
    const uuid = baseUrl.split('/').at(-1)!;
    const html = await (await t.app.request(baseUrl, { headers: { cookie } })).text();
    expect(html).toContain(`<code id="base-uuid">${uuid}</code>`);
    expect(html).toMatch(/<button type="button"[^>]*data-copy="base-uuid"[^>]*hidden/);
    expect(await (await t.app.request('/ui/assets/app.js')).text()).toContain('button[data-copy]');
  });

  it('asks before Regenerate (GET changes nothing) and says when the regenerated token is still disabled', async () => {
    const { cookie, csrf, session } = await signIn();
    const created = await form('/ui/bases', { name: 'Inventory', _csrf: csrf }, cookie);
    const baseUrl = created.headers.get('location')!.split('?')[0]!;
    await form(`${baseUrl}/tokens`, { name: 'nightly', permission: 'r', expires: '30', _csrf: csrf }, cookie);
    const id = (await t.call('GET', '/api/v1/api-tokens', { token: session })).body.api_tokens[0].id;
    const tokenUrl = `${baseUrl}/tokens/${id}`;

    // The token page links to the question; it no longer posts straight away.
    const page = await (await t.app.request(tokenUrl, { headers: { cookie } })).text();
    expect(page).toContain(`href="${tokenUrl}/regenerate"`);
    expect(page).not.toContain(`action="${tokenUrl}/regenerate"`);

    let before = dbDigest(t.raw);
    const ask = await t.app.request(`${tokenUrl}/regenerate`, { headers: { cookie } });
    expect(ask.status).toBe(200);
    const question = await ask.text();
    expect(question).toContain('Regenerate the secret of “nightly”?');
    expect(question).toContain(`action="${tokenUrl}/regenerate"`);
    expect(question).toContain(`href="${tokenUrl}"`); // Cancel
    expect(question).not.toContain('is disabled');
    expect(dbDigest(t.raw)).toBe(before);

    // Disabled: the question and the new secret's dialog both say the new secret is refused until enabled.
    await form(`${tokenUrl}/enabled`, { enabled: 'false', _csrf: csrf }, cookie);
    before = dbDigest(t.raw);
    const askDisabled = await (await t.app.request(`${tokenUrl}/regenerate`, { headers: { cookie } })).text();
    expect(askDisabled).toContain('This API-Token is disabled.');
    expect(dbDigest(t.raw)).toBe(before);
    const regenerated = await form(`${tokenUrl}/regenerate`, { _csrf: csrf }, cookie);
    expect(regenerated.status).toBe(200);
    const html = await regenerated.text();
    const secret = /id="secret-value"[^>]* value="(tl_api_[^"]+)"/.exec(html)?.[1];
    expect(secret).toMatch(/^tl_api_/);
    expect(html).toContain(
      'This API-Token is still disabled: the new secret is refused until you turn Active on.',
    );
    expect((await t.call('POST', '/api/v1/base-tokens', { token: secret })).body.error.code).toBe(
      'token_disabled',
    );

    // Enabled again: no such note.
    await form(`${tokenUrl}/enabled`, { enabled: 'true', _csrf: csrf }, cookie);
    const again = await (await form(`${tokenUrl}/regenerate`, { _csrf: csrf }, cookie)).text();
    expect(again).toContain('id="secret-value"');
    expect(again).not.toContain('still disabled');

    // Someone who may not regenerate it gets a 403 page for the question, and it changes nothing.
    const other = await t.userWithToken(await t.login(), 'someone@example.com');
    await t.call('PUT', `/api/v1/bases/${baseUrl.split('/').at(-1)}/members/${other.id}`, {
      token: session,
      body: { permission: 'admin' },
    });
    const them = await signIn('someone@example.com', PASSWORD);
    before = dbDigest(t.raw);
    const refused = await t.app.request(`${tokenUrl}/regenerate`, { headers: { cookie: them.cookie } });
    expect(refused.status).toBe(403);
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('serves a favicon (SVG, no external fetch) that every page links', async () => {
    for (const path of ['/ui/assets/favicon.svg']) {
      const response = await t.app.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      const svg = await response.text();
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/href|url\(|<script/);
    }
    const page = await (await t.app.request('/ui/login')).text();
    expect(page).toContain('<link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml"/>');
  });
});
