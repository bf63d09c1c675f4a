// Catalog §2d (HTTP input) and §2c (credentials). Each case: status, code, database unchanged.
// test/http/input.security.test.ts has the first versions of several of these; the tables here
// widen them to more routes and name each case after its catalog id.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ON_SQLITE, testApp, type CallResult, type TestApp } from '../helpers/app';
import {
  withoutRequestId,
  expectErrorBody,
  expectRejected,
  runAttack,
  SECURITY_CONFIG,
  stateSnapshot,
  world,
  type AttackCase,
  type World,
} from './helpers';

let w: World;
beforeAll(async () => {
  w = await world();
});

const PASSWORD = 'a perfectly fine passphrase';

/** A request with a verbatim body and headers (no JSON encoding by the helper). */
async function send(
  t: TestApp,
  method: string,
  path: string,
  init: { token?: string; type?: string | null; body?: BodyInit; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.type !== null && init.type !== undefined) headers['content-type'] = init.type;
  const response = await t.app.request(path, {
    method,
    headers,
    body: init.body,
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: the assertion on the error shape will fail loudly
  }
  return { status: response.status, body, headers: response.headers };
}

const JSON_TYPE = 'application/json';
const big = (bytes: number) => JSON.stringify({ name: 'x'.repeat(bytes) });

/** Write routes with a body, as [method, path, token] (the token of someone allowed to call it). */
const writeRoutes = (w: World): [string, string, string][] => [
  ['POST', '/api/v1/bases', w.alice.token],
  ['POST', `/api/v1/bases/${w.baseA}/api-tokens`, w.alice.token],
  ['PATCH', `/api/v1/api-tokens/${w.tokens.aliceRw.id}`, w.alice.token],
  ['POST', `/api/v1/api-tokens/${w.tokens.aliceRw.id}/regenerate`, w.alice.token],
  ['PATCH', `/api/v1/users/${w.bob.id}`, w.admin.token],
  ['PUT', `/api/v1/bases/${w.baseA}/members/${w.carol.id}`, w.alice.token],
  ['PUT', '/api/v1/token-policy', w.admin.token],
  ['POST', '/api/v1/base-tokens', w.tokens.aliceRw.token],
  ['POST', '/api/v1/account-tokens', ''],
];

const ROUTE_LABELS = [
  'POST bases',
  'POST bases/:uuid/api-tokens',
  'PATCH api-tokens/:id',
  'POST api-tokens/:id/regenerate',
  'PATCH users/:id',
  'PUT bases/:uuid/members/:id',
  'PUT token-policy',
  'POST base-tokens',
  'POST account-tokens',
];

const perRoute = (
  id: string,
  name: string,
  body: (w: World) => BodyInit,
  type: string | null,
  status: number,
  code: string,
): AttackCase[] =>
  ROUTE_LABELS.map((label, index) => ({
    id,
    name: `${name} → ${label}`,
    request: (w) => {
      const [method, path, token] = writeRoutes(w)[index]!;
      return send(w.t, method, path, { token, type, body: body(w) });
    },
    status,
    code,
  }));

const cases = (): AttackCase[] => [
  ...perRoute('H-01', 'body over 16 KiB', () => big(20_000), JSON_TYPE, 413, 'payload_too_large'),
  {
    id: 'H-01',
    name: 'body over 16 KiB, chunked without Content-Length',
    request: (w) =>
      send(w.t, 'POST', '/api/v1/bases', {
        token: w.alice.token,
        type: JSON_TYPE,
        headers: { 'transfer-encoding': 'chunked' },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(big(20_000)));
            controller.close();
          },
        }),
      }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    id: 'H-01',
    name: 'lying Content-Length header',
    request: (w) =>
      send(w.t, 'POST', '/api/v1/bases', {
        token: w.alice.token,
        type: JSON_TYPE,
        headers: { 'content-length': '-1' },
        body: '{"name":"x"}',
      }),
    status: 413,
    code: 'payload_too_large',
  },
  ...perRoute('H-02', 'malformed JSON', () => '{"name":', JSON_TYPE, 400, 'invalid_json'),
  ...perRoute('H-03', 'text/plain', () => '{"name":"x"}', 'text/plain', 415, 'unsupported_media_type'),
  ...perRoute(
    'H-03',
    'form-urlencoded',
    () => 'name=x',
    'application/x-www-form-urlencoded',
    415,
    'unsupported_media_type',
  ),
  ...perRoute('H-03', 'no Content-Type', () => '{"enabled":false}', null, 415, 'unsupported_media_type'),
  ...perRoute(
    'H-04',
    'charset=utf-16',
    () => '{"name":"x"}',
    'application/json; charset=utf-16',
    415,
    'unsupported_media_type',
  ),
  ...perRoute(
    'H-04',
    'application/vnd.x+json',
    () => '{"name":"x"}',
    'application/vnd.x+json',
    415,
    'unsupported_media_type',
  ),
  ...['null', '[]', '"x"', '1', 'true'].flatMap((text) =>
    perRoute('H-05', `top-level ${text}`, () => text, JSON_TYPE, 400, 'invalid_request'),
  ),
  ...(['isAdmin', 'owner_id', 'role', 'created_at', 'created_by'] as const).map(
    (field): AttackCase => ({
      id: 'H-06',
      name: `unknown field ${field} on mint`,
      request: (w) =>
        w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
          token: w.alice.token,
          body: { name: 'h06', permission: 'r', [field]: 'x' },
        }),
      status: 400,
      code: 'invalid_request',
    }),
  ),
  {
    id: 'H-06',
    name: 'unknown field on PATCH api-token',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/api-tokens/${w.tokens.aliceRw.id}`, {
        token: w.alice.token,
        body: { created_by: w.bob.id },
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-06',
    name: 'unknown field on the exchange',
    request: (w) =>
      w.t.call('POST', '/api/v1/base-tokens', {
        token: w.tokens.bobR.token,
        body: { permission: 'r', admin: true },
      }),
    status: 400,
    code: 'invalid_request',
  },
  ...[
    ['__proto__ at the top', '{"name":"h07","__proto__":{"isAdmin":true}}'],
    ['constructor.prototype at the top', '{"name":"h07","constructor":{"prototype":{"isAdmin":true}}}'],
  ].map(
    ([name, body]): AttackCase => ({
      id: 'H-07',
      name: `${name} (create base)`,
      request: (w) => send(w.t, 'POST', '/api/v1/bases', { token: w.alice.token, type: JSON_TYPE, body }),
      status: 400,
      code: 'invalid_request',
    }),
  ),
  {
    id: 'H-07',
    name: '__proto__ nested in scopes',
    request: (w) =>
      send(w.t, 'POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.bob.token,
        type: JSON_TYPE,
        body: '{"name":"h07s","scopes":{"records":"r","__proto__":{"records":"rw"}}}',
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-07',
    name: '__proto__ nested in records tables',
    request: (w) =>
      send(w.t, 'POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.bob.token,
        type: JSON_TYPE,
        body: '{"name":"h07r","scopes":{"records":{"read":"*","__proto__":{"create":"*"}}}}',
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-08',
    name: 'duplicate keys: r member sends permission r then rw',
    request: (w) =>
      send(w.t, 'POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.bob.token,
        type: JSON_TYPE,
        body: '{"name":"h08","permission":"r","permission":"rw"}',
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'H-08',
    name: 'duplicate keys at the exchange: permission r then rw on an r token',
    request: (w) =>
      send(w.t, 'POST', '/api/v1/base-tokens', {
        token: w.tokens.bobR.token,
        type: JSON_TYPE,
        body: '{"permission":"r","permission":"rw"}',
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'H-09',
    name: 'SQL in a filter (created_by)',
    request: (w) =>
      w.t.call('GET', `/api/v1/api-tokens?created_by=${encodeURIComponent("' OR 1=1--")}`, {
        token: w.alice.token,
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-09',
    name: 'SQL in a filter (status)',
    request: (w) =>
      w.t.call('GET', `/api/v1/api-tokens?status=${encodeURIComponent("active' OR '1'='1")}`, {
        token: w.alice.token,
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-09',
    name: 'SQL in a bulk-delete id',
    request: (w) =>
      w.t.call('POST', '/api/v1/api-tokens/bulk-delete', {
        token: w.alice.token,
        body: { ids: ["' OR 1=1--"] },
      }),
    status: 400,
    code: 'invalid_request',
  },
  ...[
    ['GET', '/api/v1/bases/..%2F..%2Fetc'],
    ['GET', '/api/v1/bases/..%2F..%2Fetc/members'],
    ['GET', '/api/v1/users/%00'],
    ['GET', '/api/v1/users/a%00b'],
    ['GET', '/api/v1/api-tokens/%E0%A4%A'],
    ['DELETE', '/api/v1/api-tokens/..%2F..%2F'],
    ['DELETE', '/api/v1/account-tokens/%2e%2e%2f'],
  ].map(
    ([method, path]): AttackCase => ({
      id: 'H-10',
      name: `${method} ${path}`,
      request: (w) =>
        w.t.call(method!, path!, {
          token: w.alice.token,
          ...(method === 'PUT' ? { body: { permission: 'r' } } : {}),
        }),
      status: 400,
      code: 'invalid_request',
    }),
  ),
  ...[
    'line\r\nX-Injected: 1',
    'bell\u0007',
    'nul\u0000byte',
    'bidi\u202Eevil',
    'zero\u200Bwidth',
    'esc\u001b[31m',
    'del\u007f',
  ].flatMap((name): AttackCase[] => [
    {
      id: /\r\n/.test(name) ? 'H-11' : 'H-12',
      name: `name ${JSON.stringify(name)} (base)`,
      request: (w) => w.t.call('POST', '/api/v1/bases', { token: w.alice.token, body: { name } }),
      status: 400,
      code: 'invalid_request',
    },
    {
      id: /\r\n/.test(name) ? 'H-11' : 'H-12',
      name: `name ${JSON.stringify(name)} (API-Token)`,
      request: (w) =>
        w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
          token: w.alice.token,
          body: { name, permission: 'r' },
        }),
      status: 400,
      code: 'invalid_request',
    },
  ]),
  {
    id: 'H-13',
    name: 'name of 10 000 chars',
    request: (w) =>
      w.t.call('POST', '/api/v1/bases', { token: w.alice.token, body: { name: 'x'.repeat(10_000) } }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-13',
    name: 'name of 101 chars',
    request: (w) =>
      w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.alice.token,
        body: { name: 'x'.repeat(101), permission: 'r' },
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-13',
    name: 'bulk delete of 101 ids',
    request: (w) =>
      w.t.call('POST', '/api/v1/api-tokens/bulk-delete', {
        token: w.alice.token,
        body: {
          ids: Array.from(
            { length: 101 },
            (_, i) =>
              `aaaaaaaaaaaa${String(i)
                .padStart(4, '2')
                .replace(/[0189]/g, 'a')}`,
          ),
        },
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-13',
    name: 'bulk delete of a million ids (body limit)',
    request: (w) =>
      w.t.call('POST', '/api/v1/api-tokens/bulk-delete', {
        token: w.alice.token,
        body: `{"ids":[${'"aaaaaaaaaaaaaaaa",'.repeat(1_000_000)}"aaaaaaaaaaaaaaaa"]}`,
      }),
    status: 413,
    code: 'payload_too_large',
  },
  ...(
    [
      ['expires_in_days 1e999', '{"name":"h14a","permission":"r","expires_in_days":1e999}'],
      ['expires_in_days 2^60', `{"name":"h14b","permission":"r","expires_in_days":${2 ** 60}}`],
      ['expires_in_days -1', '{"name":"h14c","permission":"r","expires_in_days":-1}'],
      ['expires_in_days 1.5', '{"name":"h14d","permission":"r","expires_in_days":1.5}'],
      ['expires_in_days "7"', '{"name":"h14e","permission":"r","expires_in_days":"7"}'],
      ['expires_at in the past', '{"name":"h14f","permission":"r","expires_at":"2000-01-01T00:00:00Z"}'],
      ['expires_at not a date', '{"name":"h14g","permission":"r","expires_at":"tomorrow"}'],
      ['expires_at a number', '{"name":"h14h","permission":"r","expires_at":1893456000}'],
    ] as const
  ).map(
    ([name, body]): AttackCase => ({
      id: 'H-14',
      name,
      request: (w) =>
        send(w.t, 'POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
          token: w.alice.token,
          type: JSON_TYPE,
          body,
        }),
      status: 400,
      code: 'invalid_request',
    }),
  ),
  {
    id: 'H-14',
    name: 'exchange ttl 1e999',
    request: (w) =>
      send(w.t, 'POST', '/api/v1/base-tokens', {
        token: w.tokens.aliceRw.token,
        type: JSON_TYPE,
        body: '{"ttl":1e999}',
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-14',
    name: 'regenerate grace_seconds -1',
    request: (w) =>
      w.t.call('POST', `/api/v1/api-tokens/${w.tokens.aliceRw.id}/regenerate`, {
        token: w.alice.token,
        body: { grace_seconds: -1 },
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-15',
    name: 'repeated filter ?status=active&status=expired',
    request: (w) =>
      w.t.call('GET', '/api/v1/api-tokens?status=active&status=bogus', { token: w.alice.token }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-15',
    name: 'unknown query parameter',
    request: (w) => w.t.call('GET', '/api/v1/api-tokens?limit=-1', { token: w.alice.token }),
    status: 400,
    code: 'invalid_request',
  },
  // (TRACE cannot be sent through fetch's Request at all.)
  {
    id: 'H-16',
    name: 'PROPFIND on a route (405, Allow)',
    request: (w) => w.t.call('PROPFIND', '/api/v1/me', { token: w.alice.token }),
    status: 405,
    code: 'method_not_allowed',
  },
  {
    id: 'H-10',
    name: 'dot segments in path params are resolved by the URL parser before routing (no such route)',
    request: (w) =>
      w.t.call('PUT', '/api/v1/bases/%2e%2e/members/%2e%2e', {
        token: w.alice.token,
        body: { permission: 'r' },
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'H-16',
    name: 'PUT on a POST-only route (405, Allow)',
    request: (w) => w.t.call('PUT', '/api/v1/base-tokens', { token: w.tokens.aliceRw.token, body: {} }),
    status: 405,
    code: 'method_not_allowed',
  },
  {
    id: 'H-16',
    name: 'DELETE on a GET-only route (405, Allow)',
    request: (w) => w.t.call('DELETE', '/api/v1/bases', { token: w.alice.token }),
    status: 405,
    code: 'method_not_allowed',
  },
  {
    id: 'H-16',
    name: 'unknown route',
    request: (w) => w.t.call('GET', '/api/v1/admin/debug', { token: w.admin.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'H-22',
    name: 'deeply nested JSON in an unknown field',
    request: (w) =>
      send(w.t, 'POST', '/api/v1/bases', {
        token: w.alice.token,
        type: JSON_TYPE,
        body: `{"name":"h22","x":${'['.repeat(7000)}${']'.repeat(7000)}}`,
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'H-22',
    name: 'deeply nested JSON in scopes',
    request: (w) =>
      send(w.t, 'POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.alice.token,
        type: JSON_TYPE,
        body: `{"name":"h22s","scopes":${'{"records":'.repeat(1000)}"r"${'}'.repeat(1000)}}`,
      }),
    status: 400,
    code: 'invalid_request',
  },
  // §2c credentials: input shapes at sign-in.
  ...(
    [
      ['password a number', { email: 'alice@example.com', password: 123456789012345 }],
      ['password an array', { email: 'alice@example.com', password: [PASSWORD] }],
      ['password an object', { email: 'alice@example.com', password: { toString: PASSWORD } }],
      ['email an array', { email: ['alice@example.com'], password: PASSWORD }],
      ['email missing', { password: PASSWORD }],
    ] as const
  ).map(
    (pair): AttackCase => ({
      id: 'C-12',
      name: pair[0],
      request: (w) => w.t.call('POST', '/api/v1/account-tokens', { body: pair[1] }),
      status: 400,
      code: 'invalid_request',
    }),
  ),
  {
    id: 'C-12',
    name: 'email with a NUL',
    request: (w) =>
      w.t.call('POST', '/api/v1/account-tokens', {
        body: { email: 'alice@example.com\u0000', password: PASSWORD },
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'C-13',
    name: '1 MB password (body limit, no hashing)',
    request: (w) =>
      w.t.call('POST', '/api/v1/account-tokens', {
        body: { email: 'alice@example.com', password: 'x'.repeat(1_000_000) },
      }),
    status: 413,
    code: 'payload_too_large',
  },
];

describe('HTTP input attacks: refused, with the right code, nothing written', () => {
  for (const attack of cases()) it(`${attack.id} ${attack.name}`, () => runAttack(w, attack));

  it('H-07 no prototype pollution after all the above, and none from parsing', async () => {
    await w.t.call('POST', '/api/v1/bases', {
      token: w.alice.token,
      body: JSON.parse('{"name":"h07p","__proto__":{"polluted":true}}'),
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('records');
  });

  it.runIf(ON_SQLITE)(
    'H-09 SQL metacharacters are stored verbatim and LIKE wildcards match nothing',
    async () => {
      const name = "'; DROP TABLE api_tokens;-- %_";
      const created = await w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.alice.token,
        body: { name, permission: 'r' },
      });
      expect(created.status).toBe(201);
      expect(created.body.name).toBe(name);
      expect(
        w.t.raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'api_tokens'").get(),
      ).toEqual({ n: 1 });
      const workspace = await w.workspaceOf(w.alice);
      // SeaTable routes look bases and tokens up by name: '%' and '_' are not wildcards there.
      for (const wildcard of ['%25', '_', 'A%25', '%25%25']) {
        const response = await w.t.call(
          'GET',
          `/api/v2.1/workspace/${workspace}/dtable/${wildcard}/api-tokens/`,
          { token: w.alice.token },
        );
        expect(response.status, wildcard).toBe(404);
      }
      const before = await stateSnapshot(w.t);
      const byName = await w.t.call('DELETE', `/api/v2.1/workspace/${workspace}/dtable/A/api-tokens/%25/`, {
        token: w.alice.token,
      });
      expect(byName.status).toBe(404);
      expect(await stateSnapshot(w.t)).toBe(before);
    },
  );

  it('H-04 a UTF-8 BOM is ignored, as RFC 8259 §8.1 permits: the same result as without it', async () => {
    const withBom = await send(w.t, 'POST', '/api/v1/base-tokens', {
      token: w.tokens.bobR.token,
      type: JSON_TYPE,
      body: '\uFEFF{"permission":"rw"}',
    });
    expectErrorBody(withBom, 403, 'insufficient_permission');
    const ok = await send(w.t, 'POST', '/api/v1/base-tokens', {
      token: w.tokens.bobR.token,
      type: JSON_TYPE,
      body: '\uFEFF{"permission":"r"}',
    });
    expect(ok.status).toBe(201);
  });

  it('H-03 a multipart body that does not match its boundary is a 4xx on every form-reading route, never a 500', async () => {
    const workspace = await w.workspaceOf(w.alice);
    for (const [path, token] of [
      ['/api2/auth-token/', undefined],
      ['/api/v2.1/dtables/', w.alice.token],
      [`/api/v2.1/workspace/${workspace}/dtable/A/api-tokens/`, w.alice.token],
      ['/ui/login', undefined],
    ] as const) {
      for (const body of [undefined, '1e999', '--x\r\nContent-Disposition: form-data\r\n\r\nbroken']) {
        const before = await stateSnapshot(w.t);
        const response = await send(w.t, 'POST', path, {
          token,
          type: 'multipart/form-data; boundary=x',
          body,
        });
        expect(
          response.status,
          `${path} ${JSON.stringify(body)} → ${response.status}`,
        ).toBeGreaterThanOrEqual(400);
        expect(response.status, `${path} ${JSON.stringify(body)} → ${response.status}`).toBeLessThan(500);
        expect(await stateSnapshot(w.t)).toBe(before);
      }
    }
  });

  it('H-20 every refusal is JSON with a charset, and never a stack trace or SQL', async () => {
    const responses = [
      await send(w.t, 'POST', '/api/v1/bases', { token: w.alice.token, type: JSON_TYPE, body: '{' }),
      await send(w.t, 'GET', '/api/v1/nothing'),
      await send(w.t, 'GET', '/api/v1/me'),
      await send(w.t, 'POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.bob.token,
        type: JSON_TYPE,
        body: '{"name":"x","permission":"rw"}',
      }),
    ];
    for (const response of responses) {
      // application/json defines no charset parameter (RFC 8259 §11); it is UTF-8 either way.
      expect(response.headers.get('content-type')).toMatch(/^application\/json(; charset=utf-8)?$/i);
      expect(JSON.stringify(response.body)).not.toMatch(
        /SqliteError|at \w+ \(|ZodError|\bSELECT\b|node_modules/,
      );
      expect(Object.keys(response.body as object)).toEqual(['error']);
    }
  });
});

describe('credential attacks', () => {
  it('C-04 unknown email, wrong password and deactivated account answer byte-identically', async () => {
    const user = await w.user('c04@example.com');
    expect(
      (
        await w.t.call('PATCH', `/api/v1/users/${user.id}`, {
          token: w.admin.token,
          body: { is_active: false },
        })
      ).status,
    ).toBe(200);
    const attempt = async (email: string, password: string) => {
      const before = await stateSnapshot(w.t);
      const response = await w.t.app.request('/api/v1/account-tokens', {
        method: 'POST',
        headers: { 'content-type': JSON_TYPE },
        body: JSON.stringify({ email, password }),
      });
      expect(await stateSnapshot(w.t)).toBe(before);
      return {
        status: response.status,
        text: withoutRequestId(await response.text()),
        headers: [...response.headers].filter(([name]) => name !== 'x-request-id').sort(),
      };
    };
    const unknown = await attempt('nobody@example.com', PASSWORD);
    const wrong = await attempt(w.alice.email, 'not the right passphrase at all');
    const disabled = await attempt(user.email, PASSWORD);
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.text).error.code).toBe('invalid_credentials');
    expect(wrong).toEqual(unknown);
    expect(disabled).toEqual(unknown);
  });

  it('C-05 exactly one password verification (one KDF) per attempt in every branch', async () => {
    const verify = vi.spyOn(w.t.deps.passwords, 'verify');
    try {
      for (const [email, password] of [
        ['nobody@example.com', PASSWORD],
        [w.alice.email, 'not the right passphrase at all'],
        [w.alice.email, PASSWORD],
      ] as const) {
        verify.mockClear();
        await w.t.call('POST', '/api/v1/account-tokens', { body: { email, password } });
        expect(verify).toHaveBeenCalledTimes(1);
      }
    } finally {
      verify.mockRestore();
    }
  });

  it('C-06 password length is counted in code points after NFKC: 14 / 15 / 64 / 128 / 129, emoji', async () => {
    const create = (email: string, password: string) =>
      w.t.call('POST', '/api/v1/users', { token: w.admin.token, body: { email, password, role: 'user' } });
    await expectRejected(w.t, () => create('c06a@example.com', 'x'.repeat(14)), 400, 'invalid_request');
    await expectRejected(w.t, () => create('c06b@example.com', 'x'.repeat(129)), 400, 'invalid_request');
    await expectRejected(w.t, () => create('c06c@example.com', '😀'.repeat(14)), 400, 'invalid_request');
    for (const [email, password] of [
      ['c06d@example.com', 'abcdefghijklmno'],
      ['c06e@example.com', 'y'.repeat(64)],
      ['c06f@example.com', 'z'.repeat(128)],
      ['c06g@example.com', '😀'.repeat(15)],
    ] as const) {
      expect((await create(email, password)).status, password).toBe(201);
    }
    // 'ﬁ' is one code point that NFKC turns into two: 14 ligatures count as 28.
    expect((await create('c06h@example.com', 'ﬁ'.repeat(8))).status).toBe(201);
  });

  it('C-07 no truncation: the first 72 characters of a 100-character password do not sign in', async () => {
    const password = Array.from({ length: 100 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    expect(
      (
        await w.t.call('POST', '/api/v1/users', {
          token: w.admin.token,
          body: { email: 'c07@example.com', password, role: 'user' },
        })
      ).status,
    ).toBe(201);
    await expectRejected(
      w.t,
      () =>
        w.t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'c07@example.com', password: password.slice(0, 72) },
        }),
      401,
      'invalid_credentials',
    );
    await expectRejected(
      w.t,
      () =>
        w.t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'c07@example.com', password: password.slice(0, 99) },
        }),
      401,
      'invalid_credentials',
    );
    expect(
      (await w.t.call('POST', '/api/v1/account-tokens', { body: { email: 'c07@example.com', password } }))
        .status,
    ).toBe(201);
  });

  it('C-08 NFKC on both sides: ligature, full-width and combining forms sign in; spaces are kept', async () => {
    const set = 'ﬁne ｐａｓｓｐｈｒａｓｅ cafe\u0301 ok';
    expect(
      (
        await w.t.call('POST', '/api/v1/users', {
          token: w.admin.token,
          body: { email: 'c08@example.com', password: set, role: 'user' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await w.t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'c08@example.com', password: 'fine passphrase café ok' },
        })
      ).status,
    ).toBe(201);
    await expectRejected(
      w.t,
      () =>
        w.t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'c08@example.com', password: 'finepassphrasecaféok' },
        }),
      401,
      'invalid_credentials',
    );
  });

  it('C-10 no composition rules: lowercase words with spaces are a fine password', async () => {
    expect(
      (
        await w.t.call('POST', '/api/v1/users', {
          token: w.admin.token,
          body: { email: 'c10@example.com', password: 'correct horse battery staple', role: 'user' },
        })
      ).status,
    ).toBe(201);
  });

  it('C-12 email case and surrounding space find the same account', async () => {
    for (const email of ['ALICE@EXAMPLE.COM', 'Alice@Example.com']) {
      expect(
        (await w.t.call('POST', '/api/v1/account-tokens', { body: { email, password: PASSWORD } })).status,
        email,
      ).toBe(201);
    }
  });

  it('C-13 parallel sign-ins are bounded: every attempt answers 401 or 503 + Retry-After, never 500', async () => {
    // Slower hashes so the limiter (4 running, 64 queued) actually fills up.
    const t = await testApp({ config: { ...SECURITY_CONFIG, scrypt: { ln: 14, r: 8, p: 1 } } });
    const before = await stateSnapshot(t);
    const results = await Promise.all(
      Array.from({ length: 80 }, () =>
        t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'admin@example.com', password: 'wrong wrong wrong wrong' },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    for (const r of results.filter((r) => r.status === 503)) {
      expectErrorBody(r, 503, 'service_unavailable');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    expect(await stateSnapshot(t)).toBe(before);
  });

  it.runIf(ON_SQLITE)('C-14 a tampered hash with ln=30 is refused without computing it', async () => {
    const user = await w.user('c14@example.com');
    w.t.raw
      .prepare('UPDATE users SET password_hash = ? WHERE id = ?')
      .run(
        '$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        user.id,
      );
    const started = performance.now();
    await expectRejected(
      w.t,
      () => w.t.call('POST', '/api/v1/account-tokens', { body: { email: user.email, password: PASSWORD } }),
      401,
      'invalid_credentials',
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
