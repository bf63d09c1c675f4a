// Issue 16, "tested against code someone else wrote": the OAuth endpoints driven by two OAuth client
// libraries as their users would drive them — openid-client v6 (what n8n-style Node integrations use)
// and oauth4webapi (its RFC-exact core, also the resource-server side: RFC 9068 access-token validation).
// Both call the app in-process through their custom-fetch hook; `allowInsecureRequests` because the
// test issuer is http. Every call checks what the library handed back, so a misbehaving endpoint
// (wrong shape, wrong status, wrong error code, a token that stays active) fails here.
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';

const ISSUER = 'http://tokenladder.test';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const API_TOKEN_TYPE = 'urn:tokenladder:token-type:api_token';
const ACCOUNT_TOKEN_TYPE = 'urn:tokenladder:token-type:account_token';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** The resource server (a gateway) configured in TOKENLADDER_INTROSPECTION_CLIENTS. */
const GATEWAY = { id: 'gateway', secret: randomBytes(32).toString('base64url') };
const resourceOf = (base: string) => `urn:tokenladder:base:${base}`;

describe('OAuth client libraries against the OAuth endpoints', () => {
  let t: TestApp;
  let adminToken: string;
  let base: string;
  let otherBase: string;
  /** A read-write API-Token on `base`: the OAuth client (client_id = its id, client_secret = it). */
  let api: { id: string; token: string };
  /** The app, as the libraries' fetch: every request goes through app.request, none over the network. */
  // (Their option types carry a Uint8Array body that TypeScript's RequestInit does not name.)
  const inProcess = (url: string, options: object) =>
    Promise.resolve(t.app.request(url, options as RequestInit));

  beforeEach(async () => {
    t = await testApp({
      config: {
        oauth: {
          resourceUrlTemplate: null,
          introspectionClients: [
            { id: GATEWAY.id, secretHash: createHash('sha256').update(GATEWAY.secret).digest('hex') },
          ],
        },
      },
    });
    // The libraries check `exp`/`iat` against the real clock: run the app's frozen clock at real time.
    t.clock.advance(Math.floor((Date.now() - t.clock.now()) / 1000));
    adminToken = await t.login();
    base = await t.createBase(adminToken, 'Projects');
    otherBase = await t.createBase(adminToken, 'Other');
    api = await t.createApiToken(adminToken, base, 'n8n', 'rw');
  });

  /** Base-Token claims after verifying the signature against the published JWKS. */
  async function verified(jwt: string, audience = resourceOf(base)) {
    const jwks = await t.call('GET', '/.well-known/jwks.json');
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks.body), {
      issuer: ISSUER,
      audience,
      typ: 'at+jwt',
      currentDate: new Date(t.clock.now()),
    });
    return payload;
  }

  describe('openid-client', () => {
    /** What a user of openid-client writes: discovery from the issuer, RFC 8414 metadata. */
    const discover = (clientId: string, auth: client.ClientAuth) =>
      client.discovery(new URL(ISSUER), clientId, undefined, auth, {
        algorithm: 'oauth2',
        [client.customFetch]: inProcess,
        execute: [client.allowInsecureRequests],
      });

    it('discovers the endpoints and capabilities from /.well-known/oauth-authorization-server', async () => {
      const config = await discover(api.id, client.ClientSecretBasic(api.token));
      const metadata = config.serverMetadata();
      expect(metadata).toMatchObject({
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
        token_endpoint: `${ISSUER}/oauth/token`,
        revocation_endpoint: `${ISSUER}/oauth/revoke`,
        introspection_endpoint: `${ISSUER}/oauth/introspect`,
        grant_types_supported: ['client_credentials', TOKEN_EXCHANGE],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        resource_indicators_supported: true,
        access_token_signing_alg_values_supported: ['EdDSA', 'ES256', 'RS256'],
      });
      expect(metadata.scopes_supported).toEqual(
        expect.arrayContaining(['base:r', 'base:rw', 'base:admin', 'records:read', 'records:delete']),
      );
    });

    it.each([
      ['client_secret_basic', () => client.ClientSecretBasic(api.token)],
      ['client_secret_post', () => client.ClientSecretPost(api.token)],
    ])('client credentials with %s: a Base-Token for the base, narrowed by scope', async (_, auth) => {
      const config = await discover(api.id, auth());
      const granted = await client.clientCredentialsGrant(config, {
        resource: resourceOf(base),
        scope: 'records:read comments:read',
      });
      expect(granted.token_type).toBe('bearer');
      expect(granted.expires_in).toBe(3 * 86400);
      expect(granted.scope).toBe('records:read comments:read');
      const claims = await verified(granted.access_token);
      expect(claims).toMatchObject({ client_id: api.id, scope: granted.scope });
      // Without a scope: everything the API-Token grants.
      const full = await client.clientCredentialsGrant(config);
      expect(full.scope?.split(' ')).toEqual(expect.arrayContaining(['base:rw', 'records:delete']));
      expect((await verified(full.access_token)).scope).toBe(full.scope);
    });

    it('token exchange with genericGrantRequest: an API-Token and an Account-Token as the subject', async () => {
      // Token exchange takes no client secret: the subject token is the credential.
      const config = await discover('n8n', client.None());
      const fromApiToken = await client.genericGrantRequest(config, TOKEN_EXCHANGE, {
        subject_token: api.token,
        subject_token_type: API_TOKEN_TYPE,
        resource: resourceOf(base),
        scope: 'records:read',
      });
      expect(fromApiToken).toMatchObject({
        token_type: 'bearer',
        scope: 'records:read',
        issued_token_type: ACCESS_TOKEN_TYPE,
      });
      expect(await verified(fromApiToken.access_token)).toMatchObject({ client_id: api.id });

      const fromAccountToken = await client.genericGrantRequest(config, TOKEN_EXCHANGE, {
        subject_token: adminToken,
        subject_token_type: ACCOUNT_TOKEN_TYPE,
        resource: resourceOf(otherBase),
        scope: 'base:r',
      });
      expect(fromAccountToken.scope?.split(' ')[0]).toBe('base:r');
      expect(fromAccountToken.scope).not.toContain('write');
      const claims = await verified(fromAccountToken.access_token, resourceOf(otherBase));
      expect(claims.scope).toBe(fromAccountToken.scope);
    });

    it('introspection as a configured resource server: active, then inactive once revoked', async () => {
      const config = await discover(api.id, client.ClientSecretBasic(api.token));
      const { access_token: baseToken } = await client.clientCredentialsGrant(config, {
        resource: resourceOf(base),
        scope: 'records:read',
      });
      const gateway = await discover(GATEWAY.id, client.ClientSecretBasic(GATEWAY.secret));
      const claims = decodeJwt(baseToken);
      expect(await client.tokenIntrospection(gateway, baseToken)).toEqual({
        active: true,
        scope: 'records:read',
        client_id: api.id,
        sub: claims.sub,
        aud: resourceOf(base),
        iss: ISSUER,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        token_type: 'Bearer',
        base_uuid: base,
        permission: claims.permission,
        tokenladder_token_kind: 'base_token',
        tokenladder_token_name: 'n8n',
      });
      // Asked about another base: not active there.
      expect(
        await client.tokenIntrospection(gateway, baseToken, { resource: resourceOf(otherBase) }),
      ).toEqual({
        active: false,
      });
      // The API-Token itself, as a resource server sees it.
      expect(
        await client.tokenIntrospection(gateway, api.token, { resource: resourceOf(base) }),
      ).toMatchObject({
        active: true,
        client_id: api.id,
        base_uuid: base,
        tokenladder_token_kind: 'api_token',
        tokenladder_scope_type: 'base',
      });

      await client.tokenRevocation(config, baseToken);
      expect(await client.tokenIntrospection(gateway, baseToken)).toEqual({ active: false });
      // The API-Token that made it is still good.
      expect((await client.tokenIntrospection(gateway, api.token)).active).toBe(true);
    });

    it('revoking an API-Token ends the client: no more tokens, introspection inactive', async () => {
      const config = await discover(api.id, client.ClientSecretBasic(api.token));
      const { access_token: baseToken } = await client.clientCredentialsGrant(config);
      const gateway = await discover(GATEWAY.id, client.ClientSecretBasic(GATEWAY.secret));
      // Revoked by someone who holds it, without client authentication.
      const holder = await discover('leak-report', client.None());
      await client.tokenRevocation(holder, api.token);
      expect(await client.tokenIntrospection(gateway, api.token)).toEqual({ active: false });
      // Its Base-Tokens end with it.
      expect(await client.tokenIntrospection(gateway, baseToken)).toEqual({ active: false });
      const before = await t.digest();
      const refused = await client
        .genericGrantRequest(holder, TOKEN_EXCHANGE, {
          subject_token: api.token,
          subject_token_type: API_TOKEN_TYPE,
        })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(client.ResponseBodyError);
      expect(refused).toMatchObject({ error: 'invalid_grant', status: 400 });
      expect(await t.digest()).toBe(before);
    });

    it('revoking an Account-Token: its exchange is refused and its Base-Tokens are inactive', async () => {
      const holder = await discover('cli', client.None());
      const exchanged = await client.genericGrantRequest(holder, TOKEN_EXCHANGE, {
        subject_token: adminToken,
        subject_token_type: ACCOUNT_TOKEN_TYPE,
        resource: resourceOf(base),
      });
      const gateway = await discover(GATEWAY.id, client.ClientSecretBasic(GATEWAY.secret));
      expect((await client.tokenIntrospection(gateway, exchanged.access_token)).active).toBe(true);

      await client.tokenRevocation(holder, adminToken);
      expect(await client.tokenIntrospection(gateway, exchanged.access_token)).toEqual({ active: false });
      expect((await t.call('GET', '/api/v1/me', { token: adminToken })).status).toBe(401);
      const before = await t.digest();
      const refused = await client
        .genericGrantRequest(holder, TOKEN_EXCHANGE, {
          subject_token: adminToken,
          subject_token_type: ACCOUNT_TOKEN_TYPE,
          resource: resourceOf(base),
        })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(client.ResponseBodyError);
      expect(refused).toMatchObject({ error: 'invalid_grant', status: 400 });
      expect(await t.digest()).toBe(before);
    });

    describe('refusals, as the library reports them', () => {
      it('a wrong client secret (client_secret_post): ResponseBodyError invalid_client', async () => {
        const other = await t.createApiToken(adminToken, base, 'other', 'r');
        const config = await discover(api.id, client.ClientSecretPost(other.token));
        const before = await t.digest();
        const refused = await client.clientCredentialsGrant(config).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(client.ResponseBodyError);
        // A client that authenticated in the form gets 400 invalid_client without a challenge (RFC 6749
        // §5.2): a Basic challenge would make the library report a WWWAuthenticateChallengeError instead.
        expect(refused).toMatchObject({ error: 'invalid_client', status: 400 });
        expect((refused as client.ResponseBodyError).response.headers.get('www-authenticate')).toBeNull();
        expect(await t.digest()).toBe(before);
      });

      it('a wrong client secret (client_secret_basic): 401 invalid_client with a Basic challenge', async () => {
        const config = await discover(
          api.id,
          client.ClientSecretBasic(`${api.token.slice(0, -1)}${api.token.endsWith('a') ? 'b' : 'a'}`),
        );
        const before = await t.digest();
        const refused = await client.clientCredentialsGrant(config).catch((error: unknown) => error);
        // RFC 6749 §5.2: a client that used HTTP Basic gets the challenge; oauth4webapi reports the
        // challenge first and leaves the body unread on the error's response.
        expect(refused).toBeInstanceOf(client.WWWAuthenticateChallengeError);
        const challenged = refused as client.WWWAuthenticateChallengeError;
        expect(challenged.status).toBe(401);
        expect(challenged.cause[0]).toMatchObject({ scheme: 'basic', parameters: { realm: 'tokenladder' } });
        expect(await challenged.response.json()).toMatchObject({ error: 'invalid_client' });
        expect(await t.digest()).toBe(before);
      });

      it('a scope asking more than the API-Token grants: invalid_scope', async () => {
        const reader = await t.createApiToken(adminToken, base, 'reader', 'r');
        const config = await discover(reader.id, client.ClientSecretPost(reader.token));
        const before = await t.digest();
        const refused = await client
          .clientCredentialsGrant(config, { scope: 'records:read records:delete' })
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(client.ResponseBodyError);
        expect(refused).toMatchObject({ error: 'invalid_scope', status: 400 });
        expect(await t.digest()).toBe(before);
      });

      it('two resources: invalid_target', async () => {
        const config = await discover(api.id, client.ClientSecretPost(api.token));
        const before = await t.digest();
        const refused = await client
          .clientCredentialsGrant(
            config,
            new URLSearchParams([
              ['resource', resourceOf(base)],
              ['resource', resourceOf(otherBase)],
            ]),
          )
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(client.ResponseBodyError);
        expect(refused).toMatchObject({ error: 'invalid_target', status: 400 });
        expect(await t.digest()).toBe(before);
      });

      it('introspection with wrong resource-server credentials: invalid_client, nothing revealed', async () => {
        const config = await discover(api.id, client.ClientSecretPost(api.token));
        const { access_token } = await client.clientCredentialsGrant(config);
        const impostor = await discover(GATEWAY.id, client.ClientSecretPost('not-the-secret'));
        const before = await t.digest();
        const refused = await client
          .tokenIntrospection(impostor, access_token)
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(client.ResponseBodyError);
        expect(refused).toMatchObject({ error: 'invalid_client', status: 400 });
        expect(JSON.stringify((refused as client.ResponseBodyError).cause)).not.toContain(api.id);
        expect(await t.digest()).toBe(before);
      });
    });
  });

  describe('oauth4webapi', () => {
    const options = { [oauth.customFetch]: inProcess, [oauth.allowInsecureRequests]: true } as const;
    const issuer = new URL(ISSUER);
    const authorizationServer = async () =>
      oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }),
      );

    it('discovery, client credentials, RFC 9068 validation, introspection and revocation', async () => {
      const as = await authorizationServer();
      expect(as.token_endpoint).toBe(`${ISSUER}/oauth/token`);
      const apiClient: oauth.Client = { client_id: api.id };
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        apiClient,
        oauth.ClientSecretBasic(api.token),
        new URLSearchParams({ resource: resourceOf(base), scope: 'records:read records:update' }),
        options,
      );
      const granted = await oauth.processClientCredentialsResponse(as, apiClient, response);
      expect(granted).toMatchObject({ token_type: 'bearer', scope: 'records:read records:update' });
      expect(response.headers.get('cache-control')).toBe('no-store');

      // A resource server for this base validates the Base-Token as an RFC 9068 JWT access token.
      const request = (token: string) =>
        new Request('https://bases.example.com/records', { headers: { authorization: `Bearer ${token}` } });
      const claims = await oauth.validateJwtAccessToken(
        as,
        request(granted.access_token),
        resourceOf(base),
        options,
      );
      expect(claims).toMatchObject({
        iss: ISSUER,
        aud: resourceOf(base),
        client_id: api.id,
        scope: 'records:read records:update',
      });
      // One for another base's resource server: refused on the audience.
      await expect(
        oauth.validateJwtAccessToken(as, request(granted.access_token), resourceOf(otherBase), options),
      ).rejects.toMatchObject({ code: oauth.JWT_CLAIM_COMPARISON, cause: { claim: 'aud' } });

      const gatewayClient: oauth.Client = { client_id: GATEWAY.id };
      const introspect = async (token: string) =>
        oauth.processIntrospectionResponse(
          as,
          gatewayClient,
          await oauth.introspectionRequest(
            as,
            gatewayClient,
            oauth.ClientSecretBasic(GATEWAY.secret),
            token,
            options,
          ),
        );
      expect(await introspect(granted.access_token)).toMatchObject({
        active: true,
        client_id: api.id,
        scope: 'records:read records:update',
        tokenladder_token_kind: 'base_token',
      });

      const revoked = await oauth.revocationRequest(
        as,
        apiClient,
        oauth.ClientSecretPost(api.token),
        granted.access_token,
        options,
      );
      expect(await oauth.processRevocationResponse(revoked)).toBeUndefined();
      expect(await introspect(granted.access_token)).toEqual({ active: false });
    });

    it('token exchange with genericTokenEndpointRequest', async () => {
      const as = await authorizationServer();
      const holder: oauth.Client = { client_id: 'scripts' };
      const response = await oauth.genericTokenEndpointRequest(
        as,
        holder,
        oauth.None(),
        TOKEN_EXCHANGE,
        new URLSearchParams({
          subject_token: adminToken,
          subject_token_type: ACCESS_TOKEN_TYPE,
          resource: resourceOf(otherBase),
          scope: 'records:read',
        }),
        options,
      );
      const exchanged = await oauth.processGenericTokenEndpointResponse(as, holder, response);
      expect(exchanged).toMatchObject({
        token_type: 'bearer',
        scope: 'records:read',
        issued_token_type: ACCESS_TOKEN_TYPE,
      });
      expect(await verified(exchanged.access_token, resourceOf(otherBase))).toMatchObject({
        scope: 'records:read',
      });
    });

    it('refusals come back as ResponseBodyError with the RFC 6749 code', async () => {
      const as = await authorizationServer();
      const apiClient: oauth.Client = { client_id: api.id };
      const attempt = async (auth: oauth.ClientAuth, parameters: URLSearchParams) =>
        oauth
          .processClientCredentialsResponse(
            as,
            apiClient,
            await oauth.clientCredentialsGrantRequest(as, apiClient, auth, parameters, options),
          )
          .catch((error: unknown) => error);
      const before = await t.digest();
      const wrongSecret = await attempt(
        oauth.ClientSecretPost('tl_api_not_the_token'),
        new URLSearchParams(),
      );
      expect(wrongSecret).toBeInstanceOf(oauth.ResponseBodyError);
      expect(wrongSecret).toMatchObject({ error: 'invalid_client', status: 400 });
      const tooMuch = await attempt(
        oauth.ClientSecretPost(api.token),
        new URLSearchParams({ scope: 'base:admin' }),
      );
      expect(tooMuch).toMatchObject({ error: 'invalid_scope', status: 400 });
      const twoTargets = await attempt(
        oauth.ClientSecretPost(api.token),
        new URLSearchParams([
          ['resource', resourceOf(base)],
          ['resource', resourceOf(otherBase)],
        ]),
      );
      expect(twoTargets).toMatchObject({ error: 'invalid_target', status: 400 });
      expect(await t.digest()).toBe(before);
    });
  });
});
