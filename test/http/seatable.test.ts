import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, PASSWORD, START, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

/** What test/helpers/app.ts configures as the base servers. */
const SERVERS = {
  dtable_server: 'http://bases.test/',
  dtable_socket: 'http://bases.test/',
  dtable_db: 'http://bases.test/dtable-db/',
};
const ISO_WITH_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;

/** Bodies the way SeaTable's clients send them (form) and the way scripts often do (JSON). */
const encodings = {
  form: (fields: Record<string, string>) => ({
    'content-type': 'application/x-www-form-urlencoded',
    body: new URLSearchParams(fields).toString(),
  }),
  json: (fields: Record<string, string>) => ({
    'content-type': 'application/json',
    body: JSON.stringify(fields),
  }),
};

describe('SeaTable-compatible routes', () => {
  let t: TestApp;
  let token: string;
  let workspaceId: string;
  beforeEach(async () => {
    t = await testApp();
    token = await t.login();
    workspaceId = (await t.call('GET', '/api/v1/workspaces', { token })).body.workspaces[0].id;
  });

  async function seatable(
    method: string,
    path: string,
    options: {
      scheme?: string;
      token?: string | null;
      fields?: Record<string, string>;
      encoding?: keyof typeof encodings;
    } = {},
  ) {
    const headers: Record<string, string> = {};
    const credential = options.token === undefined ? token : options.token;
    if (credential !== null) headers.authorization = `${options.scheme ?? 'Token'} ${credential}`;
    let body: string | undefined;
    if (options.fields) {
      const encoded = encodings[options.encoding ?? 'form'](options.fields);
      headers['content-type'] = encoded['content-type'];
      body = encoded.body;
    }
    const response = await t.app.request(path, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  }
  const basePath = (name: string) => `/api/v2.1/workspace/${workspaceId}/dtable/${encodeURIComponent(name)}`;

  it('pings, with and without authentication, and describes the server', async () => {
    expect(await seatable('GET', '/api2/ping/', { token: null })).toMatchObject({
      status: 200,
      body: 'pong',
    });
    expect((await t.app.request('/api2/ping/', { method: 'HEAD' })).status).toBe(200);
    expect(await seatable('GET', '/api2/auth/ping/')).toMatchObject({ status: 200, body: 'pong' });
    for (const path of ['/server-info/', '/api2/server-info/']) {
      const info = await seatable('GET', path, { token: null });
      expect(info.body).toEqual({
        version: expect.any(String),
        edition: 'tokenladder',
        features: expect.arrayContaining(['api-tokens']),
      });
    }
  });

  it.each(['form', 'json'] as const)(
    'issues an Account-Token from username and password (%s)',
    async (encoding) => {
      const response = await seatable('POST', '/api2/auth-token/', {
        token: null,
        encoding,
        fields: { username: ADMIN.email, password: ADMIN.password },
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ token: expect.stringMatching(/^tl_acc_/) });
      expect((await t.call('GET', '/api/v1/me', { token: response.body.token })).status).toBe(200);
    },
  );

  it("answers bad logins in SeaTable's shapes, writing nothing", async () => {
    const before = dbDigest(t.raw);
    const wrong = await seatable('POST', '/api2/auth-token/', {
      token: null,
      fields: { username: ADMIN.email, password: 'not the password' },
    });
    expect(wrong).toMatchObject({
      status: 400,
      body: { non_field_errors: ['Unable to login with provided credentials.'] },
    });
    const unknown = await seatable('POST', '/api2/auth-token/', {
      token: null,
      fields: { username: 'nobody@example.com', password: 'not the password' },
    });
    expect(unknown.body).toEqual(wrong.body);
    expect(
      await seatable('POST', '/api2/auth-token/', { token: null, fields: { username: ADMIN.email } }),
    ).toMatchObject({ status: 400, body: { password: ['This field is required.'] } });
    const partialDevice = await seatable('POST', '/api2/auth-token/', {
      token: null,
      fields: { ...{ username: ADMIN.email, password: ADMIN.password }, platform: 'linux' },
    });
    expect(partialDevice).toMatchObject({ status: 400, body: { error_msg: 'invalid params' } });
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('names the Account-Token after the device when the client sends one', async () => {
    const device = { platform: 'linux', device_id: 'abc', device_name: 'build box' };
    const response = await seatable('POST', '/api2/auth-token/', {
      token: null,
      fields: { username: ADMIN.email, password: ADMIN.password, ...device },
    });
    const list = await t.call('GET', '/api/v1/account-tokens', { token: response.body.token });
    expect(list.body.account_tokens.map((entry: { name: string }) => entry.name)).toContain('build box');
  });

  it('accepts Token and Bearer in any case and answers authentication failures as SeaTable does', async () => {
    for (const scheme of ['Token', 'token', 'Bearer', 'bearer'])
      expect((await seatable('GET', '/api2/auth/ping/', { scheme })).status).toBe(200);
    expect(await seatable('GET', '/api2/auth/ping/', { token: null })).toMatchObject({
      status: 403,
      body: { detail: 'Authentication credentials were not provided.' },
    });
    expect((await seatable('GET', '/api2/auth/ping/', { token: `${token} extra` })).status).toBe(401);
    expect((await t.app.request('/api2/auth/ping/', { headers: { authorization: 'Token' } })).status).toBe(
      401,
    );
    const unknown = await seatable('GET', '/api2/auth/ping/', { token: `tl_acc_${'a'.repeat(63)}` });
    expect(unknown).toMatchObject({ status: 401, body: { detail: 'Invalid token' } });

    const user = await t.userWithToken(token, 'ida@example.com');
    const me = (await t.call('GET', '/api/v1/me', { token })).body;
    expect(me.role).toBe('system_admin');
    await t.call('PATCH', `/api/v1/users/${user.id}`, { token, body: { is_active: false } });
    expect(await seatable('GET', '/api2/auth/ping/', { token: user.token })).toMatchObject({
      status: 401,
      body: { detail: 'User inactive or deleted' },
    });
    const tokenId = (await t.call('GET', '/api/v1/me', { token })).body.account_token_id;
    const other = await t.login();
    await t.call('DELETE', `/api/v1/account-tokens/${tokenId}`, { token: other });
    expect(await seatable('GET', '/api2/auth/ping/')).toMatchObject({
      status: 401,
      body: { detail: 'Invalid token' },
    });
  });

  it('returns account info', async () => {
    const info = await seatable('GET', '/api2/account/info/');
    expect(info.body).toEqual({
      email: ADMIN.email,
      name: 'Administrator',
      login_id: '',
      contact_email: ADMIN.email,
      is_staff: true,
      avatar_url: '',
    });
  });

  it.each(['form', 'json'] as const)(
    'creates a base by owner email or workspace id and lists it in the workspace (%s)',
    async (encoding) => {
      const byOwner = await seatable('POST', '/api/v2.1/dtables/', {
        encoding,
        fields: { name: 'Projects 2026', owner: ADMIN.email },
      });
      expect(byOwner.status).toBe(201);
      expect(byOwner.body.table).toEqual({
        id: expect.any(String),
        workspace_id: workspaceId,
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Projects 2026',
        creator: ADMIN.email,
        modifier: ADMIN.email,
        created_at: expect.stringMatching(ISO_WITH_OFFSET),
        updated_at: expect.stringMatching(ISO_WITH_OFFSET),
      });
      const byWorkspace = await seatable('POST', '/api/v2.1/dtables/', {
        encoding,
        fields: { name: 'Ünïcode base ✓', workspace_id: workspaceId },
      });
      expect(byWorkspace.status).toBe(201);
      const list = await seatable('GET', '/api/v2.1/workspaces/');
      expect(list.body.workspace_list).toEqual([
        {
          id: workspaceId,
          name: 'Personal',
          owner_type: 'Personal',
          table_list: expect.arrayContaining([byOwner.body.table, byWorkspace.body.table]),
        },
      ]);
      // The native API sees the same bases.
      expect((await t.call('GET', '/api/v1/bases', { token })).body.bases).toHaveLength(2);
    },
  );

  it('refuses bases for another owner, group workspaces and bad names', async () => {
    const before = dbDigest(t.raw);
    expect(
      await seatable('POST', '/api/v2.1/dtables/', { fields: { name: 'x', owner: 'someone@example.com' } }),
    ).toMatchObject({ status: 403, body: { error_msg: 'Permission denied.' } });
    expect(
      (await seatable('POST', '/api/v2.1/dtables/', { fields: { name: 'x', owner: '12@seafile_group' } }))
        .status,
    ).toBe(400);
    expect(
      await seatable('POST', '/api/v2.1/dtables/', { fields: { name: 'a/b', owner: ADMIN.email } }),
    ).toMatchObject({ status: 400, body: { error_msg: 'name invalid.' } });
    expect((await seatable('POST', '/api/v2.1/dtables/', { fields: { name: 'x' } })).status).toBe(400);
    expect(dbDigest(t.raw)).toBe(before);
  });

  describe('API-Tokens of a base', () => {
    const name = 'Sales pipeline ✓';
    let baseUuid: string;
    beforeEach(async () => {
      baseUuid = await t.createBase(token, name);
    });

    it.each(['form', 'json'] as const)('creates, lists, updates and deletes (%s)', async (encoding) => {
      const created = await seatable('POST', `${basePath(name)}/api-tokens/`, {
        encoding,
        fields: { app_name: 'n8n', permission: 'rw' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        app_name: 'n8n',
        api_token: expect.stringMatching(/^tl_api_/),
        generated_by: ADMIN.email,
        generated_at: '2026-11-01T12:00:00+00:00',
        last_access: '2026-11-01T12:00:00+00:00',
        permission: 'rw',
      });
      const listed = await seatable('GET', `${basePath(name)}/api-tokens/`);
      expect(listed.body).toEqual({ api_tokens: [{ ...created.body, api_token: null }] });

      const updated = await seatable('PUT', `${basePath(name)}/api-tokens/n8n/`, {
        encoding,
        fields: { permission: 'r' },
      });
      expect(updated).toMatchObject({ status: 200, body: { app_name: 'n8n', permission: 'r' } });
      expect(
        await seatable('PUT', `${basePath(name)}/api-tokens/n8n/`, { encoding, fields: { permission: 'r' } }),
      ).toMatchObject({
        status: 400,
        body: { error_msg: 'api token already has r permission.' },
      });
      expect(
        (await t.call('POST', '/api/v1/base-tokens', { token: created.body.api_token })).body.permission,
      ).toBe('r');

      expect(await seatable('DELETE', `${basePath(name)}/api-tokens/n8n/`)).toMatchObject({
        status: 200,
        body: { success: true },
      });
      expect((await t.call('POST', '/api/v1/base-tokens', { token: created.body.api_token })).status).toBe(
        401,
      );
      expect(await seatable('DELETE', `${basePath(name)}/api-tokens/n8n/`)).toMatchObject({
        status: 404,
        body: { error_msg: expect.any(String) },
      });
    });

    it('validates app_name and permission, and refuses duplicates, writing nothing', async () => {
      await seatable('POST', `${basePath(name)}/api-tokens/`, {
        fields: { app_name: 'zapier', permission: 'r' },
      });
      const before = dbDigest(t.raw);
      expect(
        await seatable('POST', `${basePath(name)}/api-tokens/`, {
          fields: { app_name: '', permission: 'r' },
        }),
      ).toMatchObject({ status: 400, body: { error_msg: 'app_name invalid.' } });
      expect(
        await seatable('POST', `${basePath(name)}/api-tokens/`, {
          fields: { app_name: 'x', permission: 'admin' },
        }),
      ).toMatchObject({ status: 400, body: { error_msg: 'permission invalid.' } });
      expect(
        await seatable('POST', `${basePath(name)}/api-tokens/`, {
          fields: { app_name: 'zapier', permission: 'rw' },
        }),
      ).toMatchObject({ status: 400, body: { error_msg: expect.stringMatching(/already/) } });
      expect(
        await seatable('PUT', `${basePath(name)}/api-tokens/nope/`, { fields: { permission: 'rw' } }),
      ).toMatchObject({ status: 404 });
      expect(dbDigest(t.raw)).toBe(before);
    });

    it('answers 404 for unknown workspaces and bases, and validates base names in paths', async () => {
      expect(
        (await seatable('GET', `/api/v2.1/workspace/99999/dtable/${encodeURIComponent(name)}/api-tokens/`))
          .status,
      ).toBe(404);
      expect(await seatable('GET', `${basePath('Nope')}/api-tokens/`)).toMatchObject({
        status: 404,
        body: { error_msg: 'base Nope not found.' },
      });
      expect(await seatable('GET', `${basePath('a\u0000b')}/api-tokens/`)).toMatchObject({
        status: 400,
        body: { error_msg: 'dtable name invalid.' },
      });
      expect((await seatable('GET', `${basePath('x'.repeat(101))}/api-tokens/`)).status).toBe(400);
      // A member of someone else's base addresses it through the owner's workspace; a stranger gets 404.
      const stranger = await t.userWithToken(token, 'jo@example.com');
      expect((await seatable('GET', `${basePath(name)}/api-tokens/`, { token: stranger.token })).status).toBe(
        404,
      );
      await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${stranger.id}`, {
        token,
        body: { permission: 'r' },
      });
      expect(
        (await seatable('GET', `${basePath(name)}/api-tokens/`, { token: stranger.token })).body,
      ).toEqual({ api_tokens: [] });
      expect(
        await seatable('POST', `${basePath(name)}/api-tokens/`, {
          token: stranger.token,
          fields: { app_name: 'mine', permission: 'rw' },
        }),
      ).toMatchObject({ status: 403, body: { error_msg: 'Permission denied.' } });
    });

    it('shares one set of tokens with the native API, both ways', async () => {
      const native = await t.createApiToken(token, baseUuid, 'native-made', 'rw');
      const compat = (
        await seatable('POST', `${basePath(name)}/api-tokens/`, {
          fields: { app_name: 'compat-made', permission: 'r' },
        })
      ).body.api_token;

      const listedCompat = (await seatable('GET', `${basePath(name)}/api-tokens/`)).body.api_tokens.map(
        (entry: { app_name: string }) => entry.app_name,
      );
      const listedNative = (
        await t.call('GET', `/api/v1/bases/${baseUuid}/api-tokens`, { token })
      ).body.api_tokens.map((entry: { name: string }) => entry.name);
      expect(listedCompat.sort()).toEqual(['compat-made', 'native-made']);
      expect(listedNative.sort()).toEqual(['compat-made', 'native-made']);

      // Created natively, exchanged the SeaTable way; created the SeaTable way, exchanged natively.
      expect(
        (await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: native.token })).status,
      ).toBe(200);
      expect((await t.call('POST', '/api/v1/base-tokens', { token: compat })).status).toBe(201);

      // Deleted in one, refused by the other.
      await seatable('DELETE', `${basePath(name)}/api-tokens/native-made/`);
      expect(
        await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: native.token }),
      ).toMatchObject({ status: 401, body: { detail: 'Invalid token' } });
      const compatId = (await t.call('GET', `/api/v1/bases/${baseUuid}/api-tokens`, { token })).body
        .api_tokens[0].id;
      await t.call('DELETE', `/api/v1/api-tokens/${compatId}`, { token });
      expect((await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: compat })).status).toBe(
        401,
      );
      expect((await seatable('GET', `${basePath(name)}/api-tokens/`)).body).toEqual({ api_tokens: [] });
    });

    it("exchanges an API-Token at app-access-token for the same EdDSA Base-Token, with SeaTable's fields and claims", async () => {
      const apiToken = (
        await seatable('POST', `${basePath(name)}/api-tokens/`, {
          fields: { app_name: 'make.com', permission: 'rw' },
        })
      ).body.api_token;
      for (const scheme of ['Token', 'Bearer']) {
        const response = await seatable('GET', '/api/v2.1/dtable/app-access-token/', {
          token: apiToken,
          scheme,
        });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          app_name: 'make.com',
          access_token: expect.any(String),
          dtable_uuid: baseUuid,
          ...SERVERS,
          workspace_id: workspaceId,
          dtable_name: name,
          use_api_gateway: false,
        });
        const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
        const { payload, protectedHeader } = await jwtVerify(
          response.body.access_token,
          createLocalJWKSet(jwks),
          {
            issuer: 'http://tokenladder.test',
            audience: `urn:tokenladder:base:${baseUuid}`,
            typ: 'at+jwt',
            currentDate: new Date(START),
          },
        );
        expect(protectedHeader.alg).toBe('EdDSA');
        expect(payload).toMatchObject({
          dtable_uuid: baseUuid,
          permission: 'rw',
          app_name: 'make.com',
          exp: START / 1000 + 3 * 86400,
        });
      }
      const shorter = await seatable('GET', '/api/v2.1/dtable/app-access-token/?exp=5h', { token: apiToken });
      expect(
        JSON.parse(Buffer.from(shorter.body.access_token.split('.')[1], 'base64url').toString()).exp,
      ).toBe(START / 1000 + 5 * 3600);
      for (const exp of ['4d', '5y', '0h', 'h', '-1d', '10s']) {
        expect(
          (await seatable('GET', `/api/v2.1/dtable/app-access-token/?exp=${exp}`, { token: apiToken }))
            .status,
          exp,
        ).toBe(400);
      }
      expect(await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: null })).toMatchObject({
        status: 403,
      });
      expect(
        await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: `tl_api_${'b'.repeat(63)}` }),
      ).toMatchObject({ status: 401, body: { detail: 'Invalid token' } });
      // An Account-Token is not an API-Token.
      expect((await seatable('GET', '/api/v2.1/dtable/app-access-token/')).status).toBe(401);
    });

    it("issues a one-hour temporary API-Token with the caller's permission that exchanges like an API-Token", async () => {
      const reader = await t.userWithToken(token, 'kim@example.com');
      await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${reader.id}`, {
        token,
        body: { permission: 'r' },
      });
      const temp = await seatable('GET', `${basePath(name)}/temp-api-token/`, { token: reader.token });
      expect(temp.status).toBe(200);
      expect(temp.body).toEqual({ api_token: expect.any(String) });

      const exchanged = await seatable('GET', '/api/v2.1/dtable/app-access-token/', {
        token: temp.body.api_token,
      });
      expect(exchanged.status).toBe(200);
      expect(exchanged.body).toMatchObject({ app_name: 'scripts', dtable_uuid: baseUuid });
      expect(
        JSON.parse(Buffer.from(exchanged.body.access_token.split('.')[1], 'base64url').toString()).permission,
      ).toBe('r');

      // Not a Base-Token, not an Account-Token, and not usable at all after one hour.
      const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
      await expect(
        jwtVerify(temp.body.api_token, createLocalJWKSet(jwks), {
          typ: 'at+jwt',
          currentDate: new Date(START),
        }),
      ).rejects.toThrow();
      expect((await t.call('GET', '/api/v1/me', { token: temp.body.api_token })).status).toBe(401);
      expect(
        (
          await seatable('POST', `${basePath(name)}/api-tokens/`, {
            token: temp.body.api_token,
            fields: { app_name: 'x', permission: 'r' },
          })
        ).status,
      ).toBe(401);
      t.clock.advance(3601);
      expect(
        (await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: temp.body.api_token })).status,
      ).toBe(401);
    });

    it("re-checks the temporary token's maker at exchange", async () => {
      const member = await t.userWithToken(token, 'lee@example.com');
      await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${member.id}`, {
        token,
        body: { permission: 'rw' },
      });
      const temp = (await seatable('GET', `${basePath(name)}/temp-api-token/`, { token: member.token })).body
        .api_token;
      await t.call('DELETE', `/api/v1/bases/${baseUuid}/members/${member.id}`, { token });
      expect(await seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: temp })).toMatchObject({
        status: 403,
        body: { error_msg: 'Permission denied.' },
      });
    });

    it('ends a temporary token with the Account-Token that made it, and when it is reported leaked', async () => {
      const member = await t.userWithToken(token, 'tia@example.com');
      await t.call('PUT', `/api/v1/bases/${baseUuid}/members/${member.id}`, {
        token,
        body: { permission: 'rw' },
      });
      const exchange = (temp: string) =>
        seatable('GET', '/api/v2.1/dtable/app-access-token/', { token: temp });
      const first = (await seatable('GET', `${basePath(name)}/temp-api-token/`, { token: member.token })).body
        .api_token;
      expect((await exchange(first)).status).toBe(200);
      const session = await t.login('tia@example.com', PASSWORD);
      const second = (await seatable('GET', `${basePath(name)}/temp-api-token/`, { token: session })).body
        .api_token;
      // Reported leaked: that one temporary token stops, its maker's others keep working.
      expect((await t.call('POST', '/api/v1/leaked-tokens', { body: { tokens: [second] } })).status).toBe(
        202,
      );
      expect((await exchange(second)).status).toBe(401);
      expect((await exchange(first)).status).toBe(200);
      // Its Account-Token revoked (sign-out): every temporary token made with it stops.
      const me = (await t.call('GET', '/api/v1/me', { token: member.token })).body;
      expect(
        (await t.call('DELETE', `/api/v1/account-tokens/${me.account_token_id}`, { token: member.token }))
          .status,
      ).toBe(204);
      expect((await exchange(first)).status).toBe(401);
    });

    it('issues a Base-Token from an Account-Token at access-token', async () => {
      const response = await seatable('GET', `${basePath(name)}/access-token/`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        access_token: expect.any(String),
        dtable_uuid: baseUuid,
        ...SERVERS,
        workspace_id: workspaceId,
        dtable_name: name,
        use_api_gateway: false,
      });
      expect((await seatable('GET', `${basePath(name)}/access-token/?exp=1h`)).status).toBe(200);
      expect((await seatable('GET', `${basePath(name)}/access-token/?exp=1w`)).status).toBe(400);
      expect((await seatable('GET', `${basePath('Other')}/access-token/`)).status).toBe(404);
    });
  });

  describe('admin routes', () => {
    let red: string;
    let lead: { id: string; token: string };
    let redBase: string;
    let blueBase: string;
    beforeEach(async () => {
      red = (await t.call('POST', '/api/v1/teams', { token, body: { name: 'Red' } })).body.id;
      const blue = (await t.call('POST', '/api/v1/teams', { token, body: { name: 'Blue' } })).body.id;
      lead = await t.userWithToken(token, 'lead@example.com', { role: 'team_admin', team_id: red });
      const redMember = await t.userWithToken(token, 'red@example.com', { team_id: red });
      const blueMember = await t.userWithToken(token, 'blue@example.com', { team_id: blue });
      redBase = await t.createBase(redMember.token, 'Red base');
      blueBase = await t.createBase(blueMember.token, 'Blue base');
      await t.createApiToken(redMember.token, redBase, 'red-1', 'r');
      await t.createApiToken(redMember.token, redBase, 'red-2', 'rw');
      await t.createApiToken(blueMember.token, blueBase, 'blue-1', 'rw');
    });

    it("lets a system admin list and revoke any base's tokens, and nobody else", async () => {
      const list = await seatable('GET', `/api/v2.1/admin/dtables/${blueBase}/api-tokens/`);
      expect(list.body.api_tokens).toEqual([
        expect.objectContaining({ app_name: 'blue-1', api_token: null, generated_by: 'blue@example.com' }),
      ]);
      expect(
        (await seatable('GET', `/api/v2.1/admin/dtables/${blueBase}/api-tokens/`, { token: lead.token }))
          .status,
      ).toBe(403);
      expect(
        await seatable('DELETE', `/api/v2.1/admin/dtables/${blueBase}/api-tokens/blue-1/`),
      ).toMatchObject({ status: 200, body: { success: true } });
      expect(
        (await seatable('GET', `/api/v2.1/admin/dtables/${blueBase}/api-tokens/`)).body.api_tokens,
      ).toEqual([]);
      expect(
        (await seatable('GET', `/api/v2.1/admin/dtables/${crypto.randomUUID()}/api-tokens/`)).status,
      ).toBe(404);
    });

    it("confines a team admin to their own team's bases", async () => {
      const own = await seatable('GET', `/api/v2.1/org/${red}/admin/dtables/${redBase}/api-tokens/`, {
        token: lead.token,
      });
      expect(own.body.api_tokens.map((entry: { app_name: string }) => entry.app_name).sort()).toEqual([
        'red-1',
        'red-2',
      ]);
      expect(own.body.api_tokens[0]).toMatchObject({ creator: 'red@example.com', avatar_url: '' });
      expect(
        (
          await seatable('GET', `/api/v2.1/org/${red}/admin/dtables/${blueBase}/api-tokens/`, {
            token: lead.token,
          })
        ).status,
      ).toBe(404);
      expect(
        (
          await seatable('GET', `/api/v2.1/org/${crypto.randomUUID()}/admin/api-tokens/`, {
            token: lead.token,
          })
        ).status,
      ).toBe(403);
      expect((await seatable('GET', `/api/v2.1/org/${red}/admin/api-tokens/`)).status).toBe(403); // a system admin is not the team's admin

      const page1 = await seatable('GET', `/api/v2.1/org/${red}/admin/api-tokens/?page=1&per_page=1`, {
        token: lead.token,
      });
      const page2 = await seatable('GET', `/api/v2.1/org/${red}/admin/api-tokens/?page=2&per_page=1`, {
        token: lead.token,
      });
      expect(page1.body.total_count).toBe(2);
      expect(page1.body.api_tokens).toHaveLength(1);
      expect(page1.body.api_tokens[0]).toMatchObject({
        dtable_uuid: redBase,
        dtable_name: 'Red base',
        dtable_icon: '',
        dtable_color: '',
      });
      expect([page1.body.api_tokens[0].app_name, page2.body.api_tokens[0].app_name].sort()).toEqual([
        'red-1',
        'red-2',
      ]);
      expect(
        (await seatable('GET', `/api/v2.1/org/${red}/admin/api-tokens/?per_page=1000`, { token: lead.token }))
          .status,
      ).toBe(400);

      expect(
        (
          await seatable('DELETE', `/api/v2.1/org/${red}/admin/dtables/${blueBase}/api-tokens/blue-1/`, {
            token: lead.token,
          })
        ).status,
      ).toBe(404);
      expect(
        (
          await seatable('DELETE', `/api/v2.1/org/${red}/admin/dtables/${redBase}/api-tokens/red-1/`, {
            token: lead.token,
          })
        ).body,
      ).toEqual({ success: true });
      expect(
        (await seatable('GET', `/api/v2.1/org/${red}/admin/api-tokens/`, { token: lead.token })).body
          .total_count,
      ).toBe(1);
    });

    it('refuses plain users', async () => {
      const user = await t.userWithToken(token, 'plain@example.com', { team_id: red });
      expect(
        await seatable('GET', `/api/v2.1/admin/dtables/${redBase}/api-tokens/`, { token: user.token }),
      ).toMatchObject({ status: 403, body: { error_msg: 'Permission denied.' } });
      expect(
        (await seatable('GET', `/api/v2.1/org/${red}/admin/api-tokens/`, { token: user.token })).status,
      ).toBe(403);
    });
  });
});
