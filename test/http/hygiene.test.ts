import { describe, expect, it } from 'vitest';
import { appConfigFromEnv, parseEnv } from '../../src/config';
import type { Logger } from '../../src/deps';
import { requestLog } from '../../src/http/hygiene';
import { ADMIN, testApp, type TestApp, type TestAppOptions } from '../helpers/app';
import { anyRequestId, errorBody } from '../helpers/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Every line at every level, as the console logger would write it. */
function capturingLog() {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(JSON.stringify({ level, message, ...fields }));
  const log: Logger = { info: write('info'), warn: write('warn'), error: write('error') };
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

async function appWithLog(options: TestAppOptions = {}) {
  const capture = capturingLog();
  const t = await testApp({ ...options, log: capture.log });
  return { t, ...capture };
}

const raw = (t: TestApp, path: string, init: RequestInit = {}) => t.app.request(path, init);

const accessControlHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

describe('request ids', () => {
  it('every response carries a fresh X-Request-Id, and error bodies quote it', async () => {
    const t = await testApp();
    const responses = await Promise.all([
      raw(t, '/api/v1/ping'),
      raw(t, '/.well-known/jwks.json'),
      raw(t, '/api/v1/me'),
      raw(t, '/api/v1/nope'),
      raw(t, '/api2/ping/'),
      raw(t, '/api/v1/account-tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email":',
      }),
      raw(t, '/api/v1/account-tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024) },
        body: 'x',
      }),
    ]);
    const ids = responses.map((response) => response.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);

    for (const [index, code] of [
      [2, 'missing_credentials'],
      [3, 'not_found'],
      [5, 'invalid_json'],
      [6, 'payload_too_large'],
    ] as const) {
      const body = await responses[index]!.json();
      expect(body).toEqual(errorBody(code));
      expect(body.error.request_id).toBe(ids[index]);
    }
  });

  it('keeps a plain incoming X-Request-Id (a proxy correlating requests) and replaces anything else', async () => {
    const t = await testApp();
    for (const id of [
      'abcdefgh',
      'req-1234.5678_ABC',
      'x'.repeat(64),
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    ]) {
      const response = await raw(t, '/api/v1/me', { headers: { 'x-request-id': id } });
      expect(response.headers.get('x-request-id')).toBe(id);
      expect((await response.json()).error.request_id).toBe(id);
    }
    // Too short, too long, and anything that could forge or break a log line or a header.
    for (const id of [
      'short',
      'x'.repeat(65),
      'has space 12345',
      '"quoted12345"',
      'a\\b\\c\\d\\e',
      '{"level":"info"}',
      'ünïcödé-12345',
      'id\twith\ttab',
    ]) {
      const response = await raw(t, '/api/v1/ping', { headers: { 'x-request-id': id } });
      expect(response.headers.get('x-request-id')).toMatch(UUID);
    }
  });

  it('every log line written during a request carries its id: unexpected errors, busy database, route logs', async () => {
    const { t, parsed } = await appWithLog();
    t.app.get('/test/boom', () => {
      throw new TypeError('something broke');
    });
    t.app.get('/test/busy', () => {
      throw new Error('SQLITE_BUSY: database is locked');
    });
    t.app.get('/test/logs', (c) => {
      requestLog(c, t.deps.log).info('a route speaks', { detail: 1 });
      return c.body(null, 204);
    });

    const boom = await raw(t, '/test/boom', { headers: { 'x-request-id': 'trace-boom-0001' } });
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({
      error: { code: 'internal_error', message: 'internal error', request_id: 'trace-boom-0001' },
    });

    const busy = await raw(t, '/test/busy');
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    const busyId = busy.headers.get('x-request-id');

    const logs = await raw(t, '/test/logs');
    expect(logs.status).toBe(204);

    expect(parsed()).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'unhandled error',
        request_id: 'trace-boom-0001',
        error: expect.stringContaining('something broke'),
      }),
      expect.objectContaining({ level: 'warn', message: 'database busy', request_id: busyId }),
      { level: 'info', message: 'a route speaks', detail: 1, request_id: logs.headers.get('x-request-id') },
    ]);
  });

  it('the SeaTable routes log unexpected errors with the request id too (their bodies keep SeaTable’s shape)', async () => {
    const { t, parsed } = await appWithLog();
    const token = await t.login();
    t.raw.close(); // every query now throws something no route expects
    const response = await raw(t, '/api2/auth/ping/', { headers: { authorization: `Token ${token}` } });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error_msg: 'Internal Server Error' });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(parsed()).toEqual([
      expect.objectContaining({ level: 'error', message: 'unhandled error', request_id: id }),
    ]);
  });

  it('signing-key rotation logs with the request id', async () => {
    const { t, parsed } = await appWithLog();
    const admin = await t.login();
    const response = await t.call('POST', '/api/v1/keys/rotate', {
      token: admin,
      body: {},
      headers: { 'x-request-id': 'rotate-request-01' },
    });
    expect(response.status).toBe(201);
    expect(parsed()).toContainEqual(
      expect.objectContaining({ message: 'signing key rotation', request_id: 'rotate-request-01' }),
    );
  });
});

describe('access log (TOKENLADDER_ACCESS_LOG)', () => {
  it('is off by default: requests write no line', async () => {
    const { t, lines } = await appWithLog();
    await raw(t, '/api/v1/ping');
    await raw(t, '/api/v1/me');
    expect(lines).toEqual([]);
  });

  it('writes one line per request: method, path without the query, status, duration, request id, client address', async () => {
    const { t, parsed } = await appWithLog({ config: { accessLog: true } });
    const ok = await raw(t, '/api/v1/ping?secret=do-not-log-me', {
      headers: { 'x-test-client-ip': '198.51.100.7' },
    });
    const denied = await raw(t, '/api/v1/me', { headers: { 'x-request-id': 'client-chosen-id' } });
    // A known path with a method it does not take: 405 (it was 404 before the Allow handling).
    const missing = await raw(t, '/api/v1/account-tokens', { method: 'DELETE' });
    expect([ok.status, denied.status, missing.status]).toEqual([200, 401, 405]);
    const lines = parsed();
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'request',
        method: 'GET',
        path: '/api/v1/ping',
        status: 200,
        duration_ms: expect.any(Number),
        request_id: ok.headers.get('x-request-id'),
        client_ip: '198.51.100.7',
      },
      {
        level: 'info',
        message: 'request',
        method: 'GET',
        path: '/api/v1/me',
        status: 401,
        duration_ms: expect.any(Number),
        request_id: 'client-chosen-id',
        client_ip: null,
      },
      expect.objectContaining({
        method: 'DELETE',
        path: '/api/v1/account-tokens',
        status: 405,
        request_id: missing.headers.get('x-request-id'),
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('do-not-log-me');
    for (const line of lines) expect(line.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('logs the status of unexpected errors, after the error line of the same request', async () => {
    const { t, parsed } = await appWithLog({ config: { accessLog: true } });
    t.app.get('/test/boom', () => {
      throw new Error('kaput');
    });
    const response = await raw(t, '/test/boom');
    const id = response.headers.get('x-request-id');
    expect(parsed()).toEqual([
      expect.objectContaining({ level: 'error', message: 'unhandled error', request_id: id }),
      expect.objectContaining({ level: 'info', message: 'request', status: 500, request_id: id }),
    ]);
  });
});

describe('security headers', () => {
  const EXPECTED = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  };

  it('are on every response: success, 4xx, 413, 404, 500, SeaTable routes', async () => {
    const t = await testApp();
    t.app.get('/test/boom', () => {
      throw new Error('kaput');
    });
    const admin = await t.login();
    const responses = [
      await raw(t, '/api/v1/ping'),
      await raw(t, '/api/v1/me', { headers: { authorization: `Bearer ${admin}` } }),
      await raw(t, '/api/v1/me'),
      await raw(t, '/api/v1/nope'),
      await raw(t, '/api/v1/bases', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${admin}`,
          'content-type': 'application/json',
          'content-length': '999999',
        },
        body: '{}',
      }),
      await raw(t, '/test/boom'),
      await raw(t, '/api2/ping/'),
      await raw(t, '/api2/auth/ping/'),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 401, 404, 413, 500, 200, 403]);
    for (const response of responses) {
      expect(
        Object.fromEntries(Object.keys(EXPECTED).map((name) => [name, response.headers.get(name)])),
      ).toEqual(EXPECTED);
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('the JWKS keeps its own Cache-Control; the other headers stay', async () => {
    const t = await testApp();
    const response = await raw(t, '/.well-known/jwks.json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-security-policy')).toBe(EXPECTED['content-security-policy']);
    expect(response.headers.get('x-request-id')).toMatch(UUID);
  });

  it('a route that serves HTML sets its own CSP, and it wins', async () => {
    const t = await testApp();
    const policy = "default-src 'self'; frame-ancestors 'none'";
    t.app.get('/test/page', (c) => {
      c.header('Content-Security-Policy', policy);
      return c.html('<p>hello</p>');
    });
    const response = await raw(t, '/test/page');
    expect(response.headers.get('content-security-policy')).toBe(policy);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('Strict-Transport-Security only when the request came over https', async () => {
    const t = await testApp();
    const secure = await raw(t, 'https://tokenladder.test/api/v1/ping');
    expect(secure.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const secureError = await raw(t, 'https://tokenladder.test/api/v1/me');
    expect(secureError.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const plain = await raw(t, 'http://tokenladder.test/api/v1/ping');
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('CORS', () => {
  const preflight = (origin: string, method = 'POST', headers = 'authorization, content-type') => ({
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

  it('H-19: off by default, no Access-Control-* header is ever sent, preflight or not', async () => {
    const t = await testApp();
    const admin = await t.login();
    for (const path of [
      '/api/v1/base-tokens',
      '/api/v1/me',
      '/api/v1/ping',
      '/api2/ping/',
      '/api/v2.1/dtable/app-access-token/',
      '/ui',
      '/nope',
    ]) {
      for (const origin of ['https://evil.example', 'null', 'http://localhost:8787']) {
        const options = await raw(t, path, preflight(origin));
        expect(accessControlHeaders(options), `OPTIONS ${path}`).toEqual([]);
        const get = await raw(t, path, { headers: { origin, authorization: `Bearer ${admin}` } });
        expect(accessControlHeaders(get), `GET ${path}`).toEqual([]);
        const post = await raw(t, path, {
          method: 'POST',
          headers: { origin, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(accessControlHeaders(post), `POST ${path}`).toEqual([]);
      }
    }
  });

  it('the JWKS alone is always readable from any origin (public keys only): `*`, no credentials, nothing else', async () => {
    for (const corsOrigins of [[], ['https://app.example.com']]) {
      const t = await testApp({ config: { corsOrigins } });
      for (const origin of ['https://evil.example', 'https://app.example.com']) {
        const response = await raw(t, '/.well-known/jwks.json', { headers: { origin } });
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      }
      const preflightEvil = await raw(
        t,
        '/.well-known/jwks.json',
        preflight('https://evil.example', 'GET', 'authorization'),
      );
      expect(accessControlHeaders(preflightEvil)).toEqual([]);
    }
  });

  describe('with TOKENLADDER_CORS_ORIGINS', () => {
    const ORIGIN = 'https://app.example.com';
    const configured = () => testApp({ config: { corsOrigins: [ORIGIN, 'http://localhost:5173'] } });

    it('answers a listed origin’s preflight on /api/* and /.well-known/*: Authorization and Content-Type, no credentials', async () => {
      const t = await configured();
      for (const path of [
        '/api/v1/base-tokens',
        '/api/v1/bases/x/api-tokens',
        '/api/v2.1/dtable/app-access-token/',
        '/.well-known/jwks.json',
      ]) {
        const response = await raw(t, path, preflight(ORIGIN));
        expect(response.status, path).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
        expect(response.headers.get('access-control-allow-methods')?.split(',')).toEqual(
          expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
        );
        expect(response.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
          expect.arrayContaining(['authorization', 'content-type']),
        );
        expect(response.headers.get('access-control-max-age')).toBe('600');
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
        expect(response.headers.get('vary')).toMatch(/origin/i);
        expect(response.headers.get('x-request-id')).toMatch(UUID);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
      const other = await raw(t, '/api/v1/base-tokens', preflight('http://localhost:5173', 'DELETE'));
      expect(other.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    });

    it('lets a listed origin exchange an API-Token and read X-Request-Id, Retry-After and error bodies', async () => {
      const t = await configured();
      const admin = await t.login();
      const base = await t.createBase(admin, 'Browser');
      const { token } = await t.createApiToken(admin, base, 'spa', 'r');
      const exchange = await raw(t, '/api/v1/base-tokens', {
        method: 'POST',
        headers: { origin: ORIGIN, authorization: `Token ${token}` },
      });
      expect(exchange.status).toBe(201);
      expect(exchange.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(exchange.headers.get('access-control-expose-headers')?.toLowerCase().split(',')).toEqual([
        'x-request-id',
        'retry-after',
      ]);
      expect(exchange.headers.get('vary')).toMatch(/origin/i);
      expect(exchange.headers.get('cache-control')).toBe('no-store');

      const refused = await raw(t, '/api/v1/base-tokens', {
        method: 'POST',
        headers: { origin: ORIGIN, authorization: 'Token tl_api_nope' },
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(await refused.json()).toEqual(errorBody('token_invalid'));

      const jwks = await raw(t, '/.well-known/jwks.json', { headers: { origin: ORIGIN } });
      expect(jwks.headers.get('access-control-allow-origin')).toBe('*');
      expect(jwks.headers.get('access-control-expose-headers')?.toLowerCase()).toBe(
        'x-request-id,retry-after',
      );
      expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    });

    it('sends nothing to an origin not listed, to requests without Origin, or outside /api and /.well-known (never /ui)', async () => {
      const t = await configured();
      for (const origin of [
        'https://evil.example',
        'https://app.example.com.evil.example',
        'http://app.example.com',
        'https://APP.example.com',
        'null',
      ]) {
        const options = await raw(t, '/api/v1/base-tokens', preflight(origin));
        expect(accessControlHeaders(options), origin).toEqual([]);
        expect(options.status).not.toBe(204);
        const get = await raw(t, '/api/v1/ping', { headers: { origin } });
        expect(accessControlHeaders(get), origin).toEqual([]);
        // Caches must not hand one origin's answer to another.
        expect(get.headers.get('vary')).toMatch(/origin/i);
      }
      expect(accessControlHeaders(await raw(t, '/api/v1/ping'))).toEqual([]);
      for (const path of ['/ui', '/ui/tokens', '/api2/ping/', '/server-info/', '/docs', '/nope']) {
        expect(accessControlHeaders(await raw(t, path, preflight(ORIGIN))), path).toEqual([]);
        expect(accessControlHeaders(await raw(t, path, { headers: { origin: ORIGIN } })), path).toEqual([]);
      }
    });

    it('`*` allows any origin, still without credentials', async () => {
      const t = await testApp({ config: { corsOrigins: ['*'] } });
      const response = await raw(t, '/api/v1/base-tokens', preflight('https://anywhere.example'));
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      const get = await raw(t, '/api/v1/ping', { headers: { origin: 'https://anywhere.example' } });
      expect(get.headers.get('access-control-allow-origin')).toBe('*');
    });
  });

  it('the configuration takes exact origins, or `*` alone', () => {
    const parse = (value: string) => appConfigFromEnv(parseEnv({ TOKENLADDER_CORS_ORIGINS: value }));
    expect(parseEnv({}).TOKENLADDER_CORS_ORIGINS).toBeUndefined();
    expect(appConfigFromEnv(parseEnv({})).corsOrigins).toEqual([]);
    expect(parse('https://app.example.com, http://localhost:5173,').corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(parse('https://app.example.com:8443').corsOrigins).toEqual(['https://app.example.com:8443']);
    expect(parse('*').corsOrigins).toEqual(['*']);
    for (const bad of [
      '*,https://app.example.com',
      'https://app.example.com/',
      'https://app.example.com/path',
      'app.example.com',
      'ftp://app.example.com',
      'https://APP.example.com',
      'https://user@app.example.com',
      'https://app.example.com:443',
    ]) {
      expect(() => parse(bad), bad).toThrow(/TOKENLADDER_CORS_ORIGINS/);
    }
  });

  it('TOKENLADDER_ACCESS_LOG is a boolean, off by default', () => {
    expect(appConfigFromEnv(parseEnv({})).accessLog).toBe(false);
    expect(appConfigFromEnv(parseEnv({ TOKENLADDER_ACCESS_LOG: 'true' })).accessLog).toBe(true);
    expect(appConfigFromEnv(parseEnv({ TOKENLADDER_ACCESS_LOG: '1' })).accessLog).toBe(true);
    expect(() => parseEnv({ TOKENLADDER_ACCESS_LOG: 'yes' })).toThrow(/TOKENLADDER_ACCESS_LOG/);
  });
});

describe('no secret reaches a log line', () => {
  it('a whole session with every level captured and the access log on: logins, minting, exchange, bad tokens, errors', async () => {
    const { t, lines } = await appWithLog({ config: { accessLog: true } });
    const secretsRef: { apiToken?: string; baseToken?: string } = {};
    // Code that logs carelessly, and an unexpected error whose message and stack carry secrets.
    t.app.post('/test/careless', async (c) => {
      requestLog(c, t.deps.log).warn(`caller sent ${c.req.header('authorization')}`, {
        password: ADMIN.password,
        body: await c.req.json(),
        headers: { authorization: c.req.header('authorization') },
      });
      // (A password has no shape: in free text nothing could find it; it is redacted only as a named field.)
      throw new Error(`could not use ${secretsRef.apiToken} or ${secretsRef.baseToken} for ${ADMIN.email}`);
    });

    // Secrets as the service issues them.
    const accountToken = await t.login();
    const user = await t.userWithToken(accountToken, 'user@example.com');
    const base = await t.createBase(accountToken, 'Secrets');
    const apiToken = (await t.createApiToken(accountToken, base, 'script', 'rw')).token;
    const exchange = await t.call('POST', '/api/v1/base-tokens', {
      headers: { authorization: `Token ${apiToken}` },
    });
    expect(exchange.status).toBe(201);
    const baseToken = exchange.body.base_token as string;
    const seatableLogin = await t.app.request('/api2/auth-token/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: ADMIN.email, password: ADMIN.password }).toString(),
    });
    const seatableToken = ((await seatableLogin.json()) as { token: string }).token;
    Object.assign(secretsRef, { apiToken, baseToken });
    const secrets = {
      accountToken,
      userToken: user.token,
      apiToken,
      baseToken,
      seatableToken,
      password: ADMIN.password,
      userPassword: 'a perfectly fine passphrase',
    };

    // Failing requests that carry them, or near-misses of them, in every place a client might put them.
    const mangled = (token: string) => `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`;
    await t.call('GET', '/api/v1/me', { token: mangled(accountToken) });
    await t.call('GET', '/api/v1/me', { token: baseToken });
    await t.call('POST', '/api/v1/base-tokens', { headers: { authorization: `Token ${mangled(apiToken)}` } });
    await t.call('POST', '/api/v1/base-tokens', {
      headers: { authorization: `Bearer ${accountToken}` },
      body: { base_uuid: 'not-a-uuid' },
    });
    await t.call('GET', `/api/v1/api-tokens/${apiToken}`, { token: accountToken });
    await t.call('GET', `/api/v1/${accountToken}/${baseToken}?token=${apiToken}`);
    await t.call('POST', '/api/v1/account-tokens', {
      body: { email: ADMIN.email, password: `${ADMIN.password}!` },
    });
    await t.call('POST', '/api/v1/account-tokens', {
      body: { email: ADMIN.email, password: ADMIN.password, extra: apiToken },
    });
    await t.call('GET', '/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${mangled(apiToken)}` },
    });

    const careless = await t.call('POST', '/test/careless', {
      token: accountToken,
      body: { api_token: apiToken, base_token: baseToken, password: ADMIN.password },
    });
    expect(careless.status).toBe(500);
    t.raw.close();
    await t.call('GET', '/api/v1/me', { token: accountToken });
    await t.call('GET', '/api2/auth/ping/', { headers: { authorization: `Token ${seatableToken}` } });

    expect(lines.length).toBeGreaterThan(15);
    expect(lines.some((line) => line.includes('"level":"error"'))).toBe(true);
    expect(lines.some((line) => line.includes('"level":"warn"'))).toBe(true);
    for (const [name, secret] of Object.entries(secrets)) {
      // The secret part alone too: a token with its prefix cut or its checksum changed still leaks it.
      const parts =
        name === 'baseToken'
          ? [secret, ...secret.split('.')]
          : name.endsWith('assword')
            ? [secret]
            : [secret, secret.slice(7, 63)];
      for (const part of parts)
        for (const line of lines) expect(line.includes(part), `${name} in ${line}`).toBe(false);
    }
    // What was removed is still visible as removed, and the lines still say what happened.
    expect(lines.join('\n')).toContain('[redacted]');
    expect(lines.some((line) => line.includes('could not use [redacted] or [redacted]'))).toBe(true);
    expect(anyRequestId().asymmetricMatch(JSON.parse(lines.at(-1)!).request_id)).toBe(true);
  });
});
