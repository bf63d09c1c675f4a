// Issue 16, "Speak OAuth": the OAuth endpoints through HTTP — RFC 8414 metadata, the token endpoint
// (client credentials, RFC 8693 token exchange, RFC 8707 resources, scope narrowing), RFC 7009
// revocation, RFC 7662 introspection and its status-code form for nginx's auth_request. The refusal
// table (every error code, nothing changed) is test/security/oauth.test.ts; real OAuth client
// libraries are test/http/oauth-clients.test.ts.
import { beforeEach, describe, expect, it } from 'vitest';
import { createBaseTokenVerifier } from '../../src/verify';
import { START, testApp, type TestApp } from '../helpers/app';
import {
  ACCOUNT_TOKEN_TYPE,
  API_TOKEN_TYPE,
  basic,
  GATEWAY,
  gatewayConfig,
  postForm,
  TOKEN_EXCHANGE,
} from '../helpers/oauth';

const RS = { authorization: basic(GATEWAY.id, GATEWAY.secret) };

describe('OAuth endpoints', () => {
  let t: TestApp;
  let admin: string;
  let crm: string;
  let wiki: string;
  let bot: { id: string; token: string };

  beforeEach(async () => {
    t = await testApp({ config: gatewayConfig });
    admin = await t.login();
    crm = await t.createBase(admin, 'CRM');
    wiki = await t.createBase(admin, 'Wiki');
    bot = await t.createApiToken(admin, crm, 'nightly sync', 'rw');
  });

  const verify = async (jwt: string, baseUuid: string) => {
    const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
    const verifier = createBaseTokenVerifier({
      issuer: 'http://tokenladder.test',
      jwks,
      currentDate: () => new Date(t.clock.now()),
    });
    return verifier.verify(jwt, { baseUuid });
  };
  const clientCredentials = (params: Record<string, string> = {}) =>
    postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials', ...params },
      {
        authorization: basic(bot.id, bot.token),
      },
    );
  const introspect = (token: string, params: Record<string, string> = {}) =>
    postForm(t, '/oauth/introspect', { token, ...params }, RS);
  const auditActions = async () =>
    (await t.deps.db.selectFrom('audit_events').select('action').orderBy('seq').execute()).map(
      (r) => r.action,
    );

  describe('metadata (RFC 8414)', () => {
    it('names every endpoint under the issuer, the grants, the auth methods, the scopes and the feed', async () => {
      const response = await t.app.request('/.well-known/oauth-authorization-server');
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const metadata = await response.json();
      expect(metadata).toMatchObject({
        issuer: 'http://tokenladder.test',
        jwks_uri: 'http://tokenladder.test/.well-known/jwks.json',
        token_endpoint: 'http://tokenladder.test/oauth/token',
        revocation_endpoint: 'http://tokenladder.test/oauth/revoke',
        introspection_endpoint: 'http://tokenladder.test/oauth/introspect',
        grant_types_supported: ['client_credentials', TOKEN_EXCHANGE],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        resource_indicators_supported: true,
        tokenladder_resource_prefix: 'urn:tokenladder:base:',
        tokenladder_resource_url_template: 'https://bases.example.com/bases/{base_uuid}',
        tokenladder_revocations_endpoint: 'http://tokenladder.test/api/v1/revocations',
        tokenladder_revocations_stream_endpoint: 'http://tokenladder.test/api/v1/revocations/stream',
      });
      expect(metadata.scopes_supported).toEqual(
        expect.arrayContaining(['base:r', 'records:read', 'records:delete']),
      );
      // Every endpoint it names answers (not 404).
      for (const key of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
        const path = new URL(metadata[key]).pathname;
        expect((await postForm(t, path, {})).status, key).not.toBe(404);
      }
    });

    it('is also served at the path-inserted address when the issuer has a path (RFC 8414 §3.1)', async () => {
      const nested = await testApp({ config: { issuer: 'https://example.com/auth' } });
      for (const path of [
        '/.well-known/oauth-authorization-server',
        '/.well-known/oauth-authorization-server/auth',
      ]) {
        const response = await nested.app.request(path);
        expect(response.status, path).toBe(200);
        expect((await response.json()).token_endpoint).toBe('https://example.com/auth/oauth/token');
      }
      expect((await nested.app.request('/.well-known/oauth-authorization-server/other')).status).toBe(404);
    });
  });

  describe('token endpoint', () => {
    it('client credentials with HTTP Basic: the API-Token is the secret, its id the client id', async () => {
      const before = await auditActions();
      const response = await clientCredentials();
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3 * 86400,
        scope:
          'base:rw records:read records:write comments:read comments:write tables:read tables:write fields:read fields:write views:read views:write webhooks:read webhooks:write base:read users:read records:create records:update records:delete',
      });
      const claims = await verify(response.body.access_token, crm);
      expect(claims).toMatchObject({ client_id: bot.id, permission: 'rw', scope: response.body.scope });
      // The same operation as POST /api/v1/base-tokens: one issue record.
      expect((await auditActions()).slice(before.length)).toEqual(['base_token.issue']);
    });

    it('client credentials in the form (client_secret_post)', async () => {
      const response = await postForm(t, '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: bot.id,
        client_secret: bot.token,
      });
      expect(response.status).toBe(200);
      expect((await verify(response.body.access_token, crm)).client_id).toBe(bot.id);
    });

    it('scope asks for less: categories, one table; the claim and the answer say what was granted', async () => {
      const response = await clientCredentials({ scope: 'records:read  comments:read table:tbl_orders' });
      expect(response.status).toBe(200);
      expect(response.body.scope).toBe('comments:read');
      const claims = await verify(response.body.access_token, crm);
      expect(claims.permission).toBe('custom');
      expect(claims.scp).toEqual({
        v: 1,
        c: { records: 'r', comments: 'r' },
        t: { create: [], read: ['tbl_orders'], update: [], delete: [] },
      });
      expect(claims.scope).toBe('comments:read');
      const coarse = await clientCredentials({ scope: 'base:r' });
      expect(coarse.body.scope).toMatch(/^base:r records:read /);
      expect((await verify(coarse.body.access_token, crm)).permission).toBe('r');
    });

    it('token exchange: an API-Token reaching several bases, the base named by resource', async () => {
      const both = await t.call('POST', '/api/v1/api-tokens', {
        token: admin,
        body: { name: 'two bases', permission: 'r', resources: { type: 'bases', base_uuids: [crm, wiki] } },
      });
      expect(both.status, JSON.stringify(both.body)).toBe(201);
      for (const [resource, base] of [
        [`urn:tokenladder:base:${wiki}`, wiki],
        [`https://bases.example.com/bases/${crm.toUpperCase()}`, crm],
        [`https://bases.example.com/bases/${crm}/`, crm],
      ] as const) {
        const response = await postForm(t, '/oauth/token', {
          grant_type: TOKEN_EXCHANGE,
          subject_token: both.body.token,
          subject_token_type: API_TOKEN_TYPE,
          resource,
        });
        expect(response.status, resource).toBe(200);
        expect(response.body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
        expect((await verify(response.body.access_token, base)).base_uuid).toBe(base);
      }
    });

    it('token exchange: an Account-Token for a base its user is a member of, as a JWT if asked', async () => {
      const response = await postForm(t, '/oauth/token', {
        grant_type: TOKEN_EXCHANGE,
        subject_token: admin,
        subject_token_type: ACCOUNT_TOKEN_TYPE,
        requested_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        resource: `urn:tokenladder:base:${wiki}`,
        scope: 'records:read',
      });
      expect(response.status).toBe(200);
      expect(response.body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:jwt');
      expect(response.body.scope).toBe('records:read');
      const claims = await verify(response.body.access_token, wiki);
      expect(claims.token_type).toBe('account_token');
      // The generic access-token type works for either kind.
      const generic = await postForm(t, '/oauth/token', {
        grant_type: TOKEN_EXCHANGE,
        subject_token: bot.token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      });
      expect(generic.status).toBe(200);
    });

    it('a refusal of a genuine token is recorded like the native exchange (auth.failure)', async () => {
      await t.call('PATCH', `/api/v1/api-tokens/${bot.id}`, { token: admin, body: { enabled: false } });
      const before = await auditActions();
      const response = await clientCredentials();
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: 'invalid_client',
        error_description: 'this API-Token is disabled',
      });
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="tokenladder"');
      expect((await auditActions()).slice(before.length)).toEqual(['auth.failure']);
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revoke: a Base-Token by its jti, into the feed', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      const { jti } = await verify(jwt, crm);
      const response = await postForm(t, '/oauth/revoke', { token: jwt, token_type_hint: 'access_token' });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const feed = (await t.call('GET', '/api/v1/revocations')).body;
      expect(feed.revocations).toEqual([expect.objectContaining({ kind: 'jti', value: jti })]);
      expect((await introspect(jwt)).body).toEqual({ active: false });
      // The API-Token itself still works.
      expect((await clientCredentials()).status).toBe(200);
    });

    it('revoke: an API-Token by whoever holds it ends it and its Base-Tokens', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      t.clock.advance(1);
      const before = await auditActions();
      expect((await postForm(t, '/oauth/revoke', { token: bot.token })).status).toBe(200);
      expect((await auditActions()).slice(before.length)).toEqual(['api_token.delete']);
      const record = await t.deps.db
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'api_token.delete')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(record.details!)).toMatchObject({ token_type: 'api_token', via: 'oauth_revoke' });
      expect((await t.call('POST', '/api/v1/base-tokens', { token: bot.token })).body.error.code).toBe(
        'token_revoked',
      );
      const feed = (await t.call('GET', '/api/v1/revocations')).body;
      expect(feed.revocations).toEqual([expect.objectContaining({ kind: 'client', value: bot.id })]);
      expect((await introspect(jwt)).body).toEqual({ active: false });
      // Again: nothing more to do, still 200, nothing recorded.
      const again = await auditActions();
      expect((await postForm(t, '/oauth/revoke', { token: bot.token })).status).toBe(200);
      expect(await auditActions()).toEqual(again);
    });

    it('revoke: an Account-Token by whoever holds it ends it and its Base-Tokens', async () => {
      const user = await t.userWithToken(admin, 'carol@example.com');
      expect((await postForm(t, '/oauth/revoke', { token: user.token })).status).toBe(200);
      expect((await t.call('GET', '/api/v1/me', { token: user.token })).status).toBe(401);
      const feed = (await t.call('GET', '/api/v1/revocations')).body;
      expect(feed.revocations).toEqual([expect.objectContaining({ kind: 'client' })]);
    });

    it('client credentials, when sent, must be valid; valid ones may revoke any token they hold', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      const wrong = await postForm(
        t,
        '/oauth/revoke',
        { token: jwt },
        { authorization: basic(bot.id, `${bot.token}x`) },
      );
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      expect((await introspect(jwt)).body.active).toBe(true);
      const right = await postForm(
        t,
        '/oauth/revoke',
        { token: jwt },
        { authorization: basic(bot.id, bot.token) },
      );
      expect(right.status).toBe(200);
      expect((await introspect(jwt)).body.active).toBe(false);
    });
  });

  describe('introspection (RFC 7662)', () => {
    it('a Base-Token: active with its claims, until the feed, its expiry or another base says otherwise', async () => {
      const jwt = (await clientCredentials({ scope: 'records:read' })).body.access_token;
      const claims = await verify(jwt, crm);
      const active = await introspect(jwt);
      expect(active.status).toBe(200);
      expect(active.headers.get('cache-control')).toBe('no-store');
      expect(active.body).toEqual({
        active: true,
        client_id: bot.id,
        sub: claims.sub,
        scope: 'records:read',
        iat: START / 1000,
        exp: START / 1000 + 3 * 86400,
        iss: 'http://tokenladder.test',
        aud: `urn:tokenladder:base:${crm}`,
        jti: claims.jti,
        base_uuid: crm,
        permission: 'custom',
        token_type: 'Bearer',
        tokenladder_token_kind: 'base_token',
        tokenladder_token_name: 'nightly sync',
      });
      expect((await introspect(jwt, { resource: `urn:tokenladder:base:${crm}` })).body.active).toBe(true);
      expect((await introspect(jwt, { resource: `urn:tokenladder:base:${wiki}` })).body).toEqual({
        active: false,
      });
      // Tampered: inactive.
      const [h, p, s] = jwt.split('.');
      expect((await introspect(`${h}.${p}.${s!.slice(0, -4)}AAAA`)).body).toEqual({ active: false });
      // The source disabled: its feed entry ends the Base-Token.
      t.clock.advance(1);
      await t.call('PATCH', `/api/v1/api-tokens/${bot.id}`, { token: admin, body: { enabled: false } });
      expect((await introspect(jwt)).body).toEqual({ active: false });
    });

    it('a Base-Token past its exp is inactive, with no tolerance', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      t.clock.advance(3 * 86400 - 1);
      expect((await introspect(jwt)).body.active).toBe(true);
      t.clock.advance(1);
      expect((await introspect(jwt)).body).toEqual({ active: false });
    });

    it('an API-Token: active while the exchange would accept it, with its reach', async () => {
      const active = await introspect(bot.token);
      expect(active.body).toMatchObject({
        active: true,
        client_id: bot.id,
        aud: `urn:tokenladder:base:${crm}`,
        base_uuid: crm,
        tokenladder_token_kind: 'api_token',
        tokenladder_scope_type: 'base',
      });
      expect(active.body.scope).toContain('records:write');
      expect(active.body.token_type).toBeUndefined();
      const both = await t.call('POST', '/api/v1/api-tokens', {
        token: admin,
        body: { name: 'two bases', permission: 'r', resources: { type: 'bases', base_uuids: [crm, wiki] } },
      });
      expect((await introspect(both.body.token)).body).toMatchObject({
        active: true,
        aud: [crm, wiki].sort().map((base) => `urn:tokenladder:base:${base}`),
        tokenladder_scope_type: 'bases',
      });
      const onWiki = await introspect(both.body.token, { resource: `urn:tokenladder:base:${wiki}` });
      expect(onWiki.body).toMatchObject({
        active: true,
        aud: `urn:tokenladder:base:${wiki}`,
        base_uuid: wiki,
      });
      await t.call('PATCH', `/api/v1/api-tokens/${bot.id}`, { token: admin, body: { enabled: false } });
      expect((await introspect(bot.token)).body).toEqual({ active: false });
      expect((await introspect(`${bot.token.slice(0, -9)}aaaaaaaaa`)).body).toEqual({ active: false });
    });

    it('an Account-Token, garbage or an unknown token: inactive, and no audit record for any introspection', async () => {
      const before = await auditActions();
      for (const token of [admin, 'not-a-token', 'a.b.c'])
        expect((await introspect(token)).body, token).toEqual({ active: false });
      expect((await introspect(bot.token)).body.active).toBe(true);
      expect(await auditActions()).toEqual(before);
    });

    it('never anonymous: no or wrong resource-server credentials are 401 invalid_client', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      const none = await postForm(t, '/oauth/introspect', { token: jwt });
      expect(none.status).toBe(401);
      expect(none.body.error).toBe('invalid_client');
      const wrong = await postForm(
        t,
        '/oauth/introspect',
        { token: jwt },
        { authorization: basic(GATEWAY.id, 'nope') },
      );
      expect(wrong.status).toBe(401);
      // An API-Token is no resource-server credential.
      const api = await postForm(
        t,
        '/oauth/introspect',
        { token: jwt },
        { authorization: basic(bot.id, bot.token) },
      );
      expect(api.status).toBe(401);
      const post = await postForm(t, '/oauth/introspect', {
        token: jwt,
        client_id: GATEWAY.id,
        client_secret: GATEWAY.secret,
      });
      expect(post.body.active).toBe(true);
    });
  });

  describe('the status-code form for nginx auth_request', () => {
    const check = (headers: Record<string, string>, method = 'GET') =>
      t.app.request('/oauth/introspect/check', {
        method,
        headers: { 'tokenladder-client-authorization': RS.authorization, ...headers },
      });

    it('204 with the principal in headers for an active Base-Token or API-Token, whatever the method', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      const claims = await verify(jwt, crm);
      for (const [token, kind] of [
        [jwt, 'base_token'],
        [bot.token, 'api_token'],
      ] as const) {
        for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
          const response = await check(
            { authorization: `Bearer ${token}`, 'tokenladder-resource': `urn:tokenladder:base:${crm}` },
            method,
          );
          expect(response.status, `${kind} ${method}`).toBe(204);
          expect(response.headers.get('tokenladder-subject')).toBe(claims.sub);
          expect(response.headers.get('tokenladder-client-id')).toBe(bot.id);
          expect(response.headers.get('tokenladder-token-kind')).toBe(kind);
          expect(response.headers.get('tokenladder-base')).toBe(crm);
          expect(response.headers.get('tokenladder-scope')).toContain('records:write');
        }
      }
    });

    it('401 without a token or for an inactive one, 403 for a good token of another base, 400 for a gateway without credentials', async () => {
      const jwt = (await clientCredentials()).body.access_token;
      const none = await check({});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tokenladder"');
      const bad = await check({ authorization: 'Bearer a.b.c' });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const other = await check({
        authorization: `Bearer ${jwt}`,
        'tokenladder-resource': `urn:tokenladder:base:${wiki}`,
      });
      expect(other.status).toBe(403);
      const gatewayless = await t.app.request('/oauth/introspect/check', {
        headers: { authorization: `Bearer ${jwt}` },
      });
      expect(gatewayless.status).toBe(400);
      expect((await gatewayless.json()).error).toBe('invalid_request');
      const wrongGateway = await t.app.request('/oauth/introspect/check', {
        headers: {
          authorization: `Bearer ${jwt}`,
          'tokenladder-client-authorization': basic(GATEWAY.id, 'wrong'),
        },
      });
      expect(wrongGateway.status).toBe(400);
    });
  });
});
