import { describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { errorBody } from '../helpers/errors';

describe('a known path with the wrong method: 405 with Allow; unknown paths stay 404', () => {
  it('answers 405 in the error envelope, naming the methods the path takes', async () => {
    const t = await testApp();
    const admin = await t.login();
    const base = await t.createBase(admin, 'Base');
    const before = dbDigest(t.raw);
    const cases: [string, string, string][] = [
      ['DELETE', '/api/v1/bases', 'GET, HEAD, POST'],
      ['PUT', '/api/v1/base-tokens', 'POST'],
      ['GET', '/api/v1/base-tokens', 'POST'],
      ['POST', `/api/v1/bases/${base}`, 'GET, HEAD'],
      ['PATCH', '/.well-known/jwks.json', 'GET, HEAD'],
      ['DELETE', '/api/v1/token-policy', 'GET, HEAD, PUT'],
    ];
    for (const [method, path, allow] of cases) {
      {
        // Signed in: a path behind auth middleware asks for credentials first, whatever the method.
        const token = admin;
        const response = await t.call(method, path, { token });
        const others = allow.split(', ').filter((m) => m !== 'HEAD');
        expect({
          method,
          path,
          status: response.status,
          allow: response.headers.get('allow'),
          body: response.body,
        }).toEqual({
          method,
          path,
          status: 405,
          allow,
          body: errorBody(
            'method_not_allowed',
            `${method} is not allowed on ${path}; it takes ${others.slice(0, -1).join(', ')}${others.length > 1 ? ' or ' : ''}${others.at(-1)}`,
          ),
        });
      }
    }
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('unknown paths, and a known path with a trailing slash it does not have, stay 404 without Allow', async () => {
    const t = await testApp();
    const admin = await t.login();
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/api/v1/nope'],
      ['DELETE', '/api/v1/bases/'],
      ['GET', '/api2/auth-token'],
    ] as const) {
      const response = await t.call(method, path, { token: admin });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.headers.get('allow')).toBeNull();
      expect(response.body).toEqual(errorBody('not_found', `no route for ${method} ${path}`));
    }
  });

  it("SeaTable's paths answer in Django REST Framework's shape", async () => {
    const t = await testApp();
    const before = dbDigest(t.raw);
    const response = await t.call('GET', '/api2/auth-token/');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.body).toEqual({ detail: 'Method "GET" not allowed.' });
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('HEAD follows GET; a preflight with CORS configured is still answered by CORS', async () => {
    const t = await testApp({ config: { corsOrigins: ['https://app.example.com'] } });
    const head = await t.app.request('/api/v1/base-tokens', { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
    const preflight = await t.app.request('/api/v1/base-tokens', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});
