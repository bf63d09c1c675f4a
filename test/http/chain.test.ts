import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, START, testApp, type TestApp } from '../helpers/app';

const ISSUER = 'http://tokenladder.test';

describe('the whole chain: admin → Account-Token → base → API-Token → Base-Token', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });

  it('walks every step and issues a Base-Token that verifies against the published JWKS', async () => {
    const signIn = await t.call('POST', '/api/v1/account-tokens', { body: { ...ADMIN, name: 'laptop' } });
    expect(signIn.status).toBe(201);
    expect(signIn.body).toEqual({
      id: expect.stringMatching(/^[a-z2-7]{16}$/),
      token: expect.stringMatching(/^tl_acc_[a-z2-7]{63}$/),
      name: 'laptop',
      created_at: '2026-11-01T12:00:00Z',
      expires_at: null,
      last_used_at: null,
    });
    const accountToken = signIn.body.token as string;

    const me = await t.call('GET', '/api/v1/me', { token: accountToken });
    expect(me.body).toMatchObject({
      email: ADMIN.email,
      role: 'system_admin',
      account_token_id: signIn.body.id,
    });

    const base = await t.call('POST', '/api/v1/bases', { token: accountToken, body: { name: 'Projects' } });
    expect(base.status).toBe(201);
    expect(base.body).toMatchObject({
      name: 'Projects',
      permission: 'admin',
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    const apiToken = await t.call('POST', `/api/v1/bases/${base.body.uuid}/api-tokens`, {
      token: accountToken,
      body: { name: 'nightly sync', permission: 'r' },
    });
    expect(apiToken.status).toBe(201);
    expect(apiToken.body).toMatchObject({
      token: expect.stringMatching(/^tl_api_[a-z2-7]{63}$/),
      name: 'nightly sync',
      permission: 'r',
      base_uuid: base.body.uuid,
    });

    const exchange = await t.call('POST', '/api/v1/base-tokens', {
      headers: { authorization: `Token ${apiToken.body.token}` },
    });
    expect(exchange.status).toBe(201);
    expect(exchange.body).toEqual({
      base_token: expect.any(String),
      expires_at: '2026-11-04T12:00:00Z',
      base_uuid: base.body.uuid,
      permission: 'r',
    });

    const jwks = await t.call('GET', '/.well-known/jwks.json');
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    for (const key of jwks.body.keys)
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    const header = decodeProtectedHeader(exchange.body.base_token);
    expect(header).toEqual({ alg: 'EdDSA', kid: jwks.body.keys[0].kid, typ: 'at+jwt' });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { payload } = await jwtVerify(exchange.body.base_token, createLocalJWKSet(jwks.body), {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: `urn:tokenladder:base:${base.body.uuid}`,
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      currentDate: new Date(START),
    });
    const admin = await t.call('GET', '/api/v1/me', { token: accountToken });
    expect(payload).toEqual({
      iss: ISSUER,
      aud: `urn:tokenladder:base:${base.body.uuid}`,
      sub: admin.body.id,
      iat: START / 1000,
      exp: START / 1000 + 3 * 86400,
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      client_id: apiToken.body.id,
      token_type: 'api_token',
      token_name: 'nightly sync',
      base_uuid: base.body.uuid,
      permission: 'r',
      // RFC 9068 §2.2.3: the grant as a scope string, for gateways that match strings.
      scope:
        'base:r records:read comments:read tables:read fields:read views:read webhooks:read base:read users:read',
      // The revocation feed's position at the exchange (empty feed): later entries refuse it.
      gen: 0,
      // SeaTable's claim names, for services written against its payload.
      dtable_uuid: base.body.uuid,
      username: admin.body.id,
      app_name: 'nightly sync',
    });
  });

  it("exchanges an Account-Token for a Base-Token with the caller's own permission on the named base", async () => {
    const token = await t.login();
    const baseUuid = await t.createBase(token, 'Mine');
    const exchange = await t.call('POST', '/api/v1/base-tokens', { token, body: { base_uuid: baseUuid } });
    expect(exchange.status).toBe(201);
    expect(exchange.body).toMatchObject({ base_uuid: baseUuid, permission: 'admin' });
    const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
    const { payload } = await jwtVerify(exchange.body.base_token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: `urn:tokenladder:base:${baseUuid}`,
      currentDate: new Date(START),
    });
    expect(payload).toMatchObject({
      token_type: 'account_token',
      token_name: 'default',
      permission: 'admin',
    });

    const missingBase = await t.call('POST', '/api/v1/base-tokens', { token });
    expect(missingBase.status).toBe(400);
    expect(missingBase.body.error.message).toMatch(/base_uuid/);
  });

  it('gives every Base-Token its own jti', async () => {
    const token = await t.login();
    const baseUuid = await t.createBase(token, 'Mine');
    const api = await t.createApiToken(token, baseUuid, 'job', 'rw');
    const exchanges = await Promise.all(
      Array.from({ length: 10 }, () => t.call('POST', '/api/v1/base-tokens', { token: api.token })),
    );
    const jtis = exchanges.map(
      (exchange) =>
        JSON.parse(atob(exchange.body.base_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).jti,
    );
    expect(new Set(jtis).size).toBe(10);
  });

  it('answers ping and server-info without authentication', async () => {
    expect((await t.call('GET', '/api/v1/ping')).body).toBe('pong');
    const info = await t.call('GET', '/api/v1/server-info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      version: expect.any(String),
      base_token: { lifetime_seconds: 259200 },
      account_token: { max_age_seconds: null },
    });
  });
});
