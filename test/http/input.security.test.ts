import { beforeEach, describe, expect, it, vi } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { errorBody } from '../helpers/errors';

describe('bad input and bad credentials: a clear 4xx, the error shape, nothing written', () => {
  let t: TestApp;
  let admin: string;
  let baseUuid: string;
  let apiToken: { id: string; token: string };
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    baseUuid = await t.createBase(admin, 'Base');
    apiToken = await t.createApiToken(admin, baseUuid, 'job', 'rw');
    await t.call('POST', '/api/v1/base-tokens', { token: apiToken.token });
  });

  const raw = (
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: BodyInit } = {},
  ) =>
    t.app.request(path, {
      method,
      headers: init.headers,
      body: init.body,
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);

  async function expectError(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual(errorBody(code));
    return body.error.message as string;
  }

  const authed = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${admin}`, ...extra });

  it('rejects malformed JSON, wrong media types and non-object bodies', async () => {
    const before = dbDigest(t.raw);
    await expectError(
      await raw('POST', '/api/v1/bases', {
        headers: authed({ 'content-type': 'application/json' }),
        body: '{"name":',
      }),
      400,
      'invalid_json',
    );
    await expectError(
      await raw('POST', '/api/v1/bases', {
        headers: authed({ 'content-type': 'text/plain' }),
        body: '{"name":"x"}',
      }),
      415,
      'unsupported_media_type',
    );
    await expectError(
      await raw('POST', '/api/v1/bases', {
        headers: authed({ 'content-type': 'application/x-www-form-urlencoded' }),
        body: 'name=x',
      }),
      415,
      'unsupported_media_type',
    );
    await expectError(
      await raw('POST', '/api/v1/bases', {
        headers: authed({ 'content-type': 'application/json; charset=utf-16' }),
        body: '{"name":"x"}',
      }),
      415,
      'unsupported_media_type',
    );
    await expectError(
      await raw('PATCH', `/api/v1/users/${crypto.randomUUID()}`, {
        headers: authed({ 'content-type': 'text/plain' }),
        body: '{}',
      }),
      415,
      'unsupported_media_type',
    );
    for (const body of ['null', '[]', '"x"', '1', '{"name": null}', '{"name": 5}']) {
      await expectError(
        await raw('POST', '/api/v1/bases', { headers: authed({ 'content-type': 'application/json' }), body }),
        400,
        'invalid_request',
      );
    }
    await expectError(await raw('POST', '/api/v1/bases', { headers: authed() }), 400, 'invalid_request');
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('refuses unknown fields instead of ignoring them (no mass assignment)', async () => {
    const before = dbDigest(t.raw);
    const response = await t.call('POST', '/api/v1/bases', {
      token: admin,
      body: { name: 'x', created_by: 'someone' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe('unknown field: created_by');
    const escalate = await t.call('POST', `/api/v1/bases/${baseUuid}/api-tokens`, {
      token: admin,
      body: { name: 'y', permission: 'rw', created_by: 'x' },
    });
    expect(escalate.status).toBe(400);
    expect(
      (
        await t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'a@b.c', password: 'x', role: 'admin' },
        })
      ).status,
    ).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await t.call('POST', '/api/v1/bases', {
      token: admin,
      body: JSON.parse('{"name":"p","__proto__":{"polluted":true}}'),
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('limits body size, with or without Content-Length', async () => {
    const before = dbDigest(t.raw);
    const big = JSON.stringify({ name: 'x'.repeat(20_000) });
    await expectError(
      await raw('POST', '/api/v1/bases', {
        headers: authed({ 'content-type': 'application/json' }),
        body: big,
      }),
      413,
      'payload_too_large',
    );
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    await expectError(
      await raw('POST', '/api/v1/bases', {
        headers: authed({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
        body: stream,
      }),
      413,
      'payload_too_large',
    );
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('validates names and ids before touching the database', async () => {
    const before = dbDigest(t.raw);
    for (const name of [
      '',
      '   ',
      'x'.repeat(101),
      'tab\there',
      'bidi\u202Eevil',
      'zero\u200Bwidth',
      'line\nbreak',
    ]) {
      const response = await t.call('POST', '/api/v1/bases', { token: admin, body: { name } });
      expect(response.status, JSON.stringify(name)).toBe(400);
    }
    for (const path of [
      '/api/v1/bases/not-a-uuid/api-tokens',
      '/api/v1/bases/..%2F..%2Fetc/members',
      `/api/v1/users/%00`,
      '/api/v1/api-tokens/%27%20OR%201=1',
    ]) {
      const response = await raw(
        path.includes('api-tokens/') && !path.includes('bases') ? 'DELETE' : 'GET',
        path,
        { headers: authed() },
      );
      expect(response.status, path).toBe(400);
    }
    const sqlish = await t.call('POST', '/api/v1/bases', {
      token: admin,
      body: { name: "'; DROP TABLE api_tokens;--" },
    });
    expect(sqlish.status).toBe(201);
    expect(sqlish.body.name).toBe("'; DROP TABLE api_tokens;--");
    expect(dbDigest(t.raw)).not.toBe(before); // the base above was created, verbatim
    expect(t.raw.prepare('SELECT count(*) AS n FROM api_tokens').get()).toEqual({ n: 1 });
  });

  it('parses the Authorization header strictly: Bearer, Token (any case) and xc-token', async () => {
    const me = (headers: Record<string, string>) => raw('GET', '/api/v1/me', { headers });
    expect((await me({ authorization: `Bearer ${admin}` })).status).toBe(200);
    expect((await me({ authorization: `Token ${admin}` })).status).toBe(200);
    expect((await me({ authorization: `tOkEn ${admin}` })).status).toBe(200);
    expect((await me({ 'xc-token': admin })).status).toBe(200);

    const missing = await me({});
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tokenladder"');
    await expectError(missing, 401, 'missing_credentials');
    for (const authorization of [
      `Basic ${admin}`,
      `Bearer  ${admin}`,
      `Bearer ${admin}, Bearer ${admin}`,
      `Bearer ${admin} junk`,
      'Bearer',
      `Bearer\t${admin}`,
      `Bearer ${'a'.repeat(5000)}`,
    ]) {
      await expectError(await me({ authorization }), 400, 'invalid_authorization_header');
    }
    await expectError(
      await me({ authorization: `Bearer ${admin}`, 'xc-token': admin }),
      400,
      'invalid_authorization_header',
    );
    // Tokens in the query string are never read.
    await expectError(
      await raw('GET', `/api/v1/me?token=${admin}&api_token=${admin}`),
      401,
      'missing_credentials',
    );
  });

  it('rejects a mistyped token before any database query', async () => {
    const mistyped = admin.slice(0, -1) + (admin.endsWith('a') ? 'b' : 'a');
    const prepare = vi.spyOn(t.raw, 'prepare');
    const response = await raw('GET', '/api/v1/me', { headers: { authorization: `Bearer ${mistyped}` } });
    await expectError(response, 401, 'token_invalid');
    const exchange = await raw('POST', '/api/v1/base-tokens', {
      headers: { authorization: `Bearer ${apiToken.token.slice(0, -1)}x` },
    });
    await expectError(exchange, 401, 'token_invalid');
    expect(prepare).not.toHaveBeenCalled();
  });

  it('gives unknown ids and wrong secrets byte-identical answers', async () => {
    // Same id, different secret (with a valid checksum), versus a well-formed token nobody issued.
    const { mintOpaqueToken } = await import('../../src/tokens/opaque');
    const { crc32, base32 } = await import('../../src/lib/bytes');
    const stranger = (await mintOpaqueToken('account')).token;
    const body = `tl_acc_${admin.slice(7, 23)}${stranger.slice(23, 63)}`;
    const sum = crc32(body);
    const sameId =
      body +
      base32(new Uint8Array([sum >>> 24, (sum >>> 16) & 255, (sum >>> 8) & 255, sum & 255])).slice(0, 7);
    const before = dbDigest(t.raw);
    // The same caller-chosen request id on both, so the bodies may differ in nothing at all.
    const requestId = { 'x-request-id': 'same-request-id-0001' };
    const unknown = await (
      await raw('GET', '/api/v1/me', { headers: { authorization: `Bearer ${stranger}`, ...requestId } })
    ).text();
    const wrongSecret = await (
      await raw('GET', '/api/v1/me', { headers: { authorization: `Bearer ${sameId}`, ...requestId } })
    ).text();
    expect(wrongSecret).toBe(unknown);
    expect(JSON.parse(unknown).error.code).toBe('token_invalid');
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('refuses the wrong kind of token on every route', async () => {
    const baseToken = (await t.call('POST', '/api/v1/base-tokens', { token: apiToken.token })).body
      .base_token;
    const before = dbDigest(t.raw);
    for (const token of [apiToken.token, baseToken]) {
      const response = await t.call('GET', '/api/v1/me', { token });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('wrong_token_type');
      expect(
        (
          await t.call('POST', `/api/v1/bases/${baseUuid}/api-tokens`, {
            token,
            body: { name: 'n', permission: 'r' },
          })
        ).body.error.code,
      ).toBe('wrong_token_type');
    }
    const baseForExchange = await t.call('POST', '/api/v1/base-tokens', { token: baseToken });
    expect(baseForExchange.status).toBe(401);
    expect(baseForExchange.body.error.code).toBe('wrong_token_type');
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('answers unknown routes and methods with the JSON error shape', async () => {
    await expectError(await raw('GET', '/api/v1/nothing-here'), 404, 'not_found');
    const wrongMethod = await raw('PUT', '/api/v1/base-tokens', { headers: authed() });
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expectError(wrongMethod, 405, 'method_not_allowed');
  });

  it('never answers 500 and never writes on garbage, across every route', async () => {
    const routes: [string, string][] = [
      ['POST', '/api/v1/account-tokens'],
      ['GET', '/api/v1/account-tokens'],
      ['DELETE', '/api/v1/account-tokens/aaaaaaaaaaaaaaaa'],
      ['GET', '/api/v1/me'],
      ['POST', '/api/v1/users'],
      ['GET', '/api/v1/users'],
      ['PATCH', `/api/v1/users/${crypto.randomUUID()}`],
      ['POST', '/api/v1/teams'],
      ['GET', '/api/v1/workspaces'],
      ['POST', '/api/v1/bases'],
      ['GET', `/api/v1/bases/${baseUuid}`],
      ['PUT', `/api/v1/bases/${baseUuid}/members/${crypto.randomUUID()}`],
      ['DELETE', `/api/v1/bases/${baseUuid}/members/${crypto.randomUUID()}`],
      ['POST', `/api/v1/bases/${baseUuid}/api-tokens`],
      ['GET', `/api/v1/bases/${baseUuid}/api-tokens`],
      ['DELETE', `/api/v1/api-tokens/${apiToken.id}x`],
      ['POST', '/api/v1/base-tokens'],
    ];
    const bodies = [
      '{',
      '[]',
      'null',
      '{"a":1}',
      '{"name":"\u0000"}',
      '{"permission":"superuser","name":"n"}',
      '{"email":[],"password":{}}',
      '{"base_uuid":"x"}',
      '1e999',
      `"${'a'.repeat(3000)}"`,
    ];
    const credentials: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nonsense' },
      { authorization: `Bearer ${apiToken.token}` },
    ];
    const before = dbDigest(t.raw);
    for (const [method, path] of routes) {
      for (const headers of credentials) {
        for (const body of method === 'GET' || method === 'DELETE' ? [undefined] : bodies) {
          const response = await raw(method, path, {
            headers: { ...headers, 'content-type': 'application/json' },
            body,
          });
          expect(response.status, `${method} ${path} ${body}`).toBeGreaterThanOrEqual(400);
          expect(response.status, `${method} ${path} ${body}`).toBeLessThan(500);
        }
      }
    }
    expect(dbDigest(t.raw)).toBe(before);
    expect(t.deps.log).toBeDefined();
  });
});
