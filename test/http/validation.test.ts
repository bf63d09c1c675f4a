import { beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { errorBody } from '../helpers/errors';

/** zod's own phrasing, which must never reach a caller. */
const RAW_ZOD =
  /invalid input|invalid option|expected|received|too small|too big|unrecognized key|invalid string|invalid discriminator|>=|<=/i;

describe('validation messages read like a person wrote them: the field, then what is wrong', () => {
  let t: TestApp;
  let admin: string;
  let base: string;
  let apiToken: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    base = await t.createBase(admin, 'Base');
    apiToken = (await t.createApiToken(admin, base, 'job', 'rw')).token;
  });

  const json = { 'content-type': 'application/json' };
  /** [method, path, body (a string is sent as is), the exact message] */
  const cases = (): [string, string, unknown, string][] => [
    ['POST', '/api/v1/bases', {}, 'name: required'],
    ['POST', '/api/v1/bases', { name: 5 }, 'name: must be a string'],
    ['POST', '/api/v1/bases', { name: null }, 'name: must be a string'],
    ['POST', '/api/v1/bases', { name: '' }, 'name: must not be empty'],
    ['POST', '/api/v1/bases', { name: 'x'.repeat(101) }, 'name: must be at most 100 characters'],
    ['POST', '/api/v1/bases', { name: 'x', owner: 'me' }, 'unknown field: owner'],
    ['POST', '/api/v1/bases', { name: 'x', a: 1, b: 2 }, 'unknown fields: a, b'],
    ['POST', '/api/v1/bases', 'null', 'the request body must be a JSON object'],
    ['POST', '/api/v1/bases', '[]', 'the request body must be a JSON object'],
    ['POST', '/api/v1/bases', '"x"', 'the request body must be a JSON object'],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', permission: 'x' },
      'permission: must be "r" or "rw"',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', permission: 'r', expires_in_days: 0 },
      'expires_in_days: must be at least 1',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', permission: 'r', expires_in_days: 5000 },
      'expires_in_days: must be at most 3650',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', permission: 'r', expires_in_days: 1.5 },
      'expires_in_days: must be a whole number',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', permission: 'r', expires_in_days: '3' },
      'expires_in_days: must be a number',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', permission: 'r', expires_at: 'tomorrow' },
      'expires_at: must be an ISO-8601 time such as 2026-01-31T12:00:00Z',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', scopes: { records: 'x' } },
      'scopes.records: must be "r", "rw" or an object',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', scopes: { bogus: 'r' } },
      'unknown field: scopes.bogus',
    ],
    [
      'POST',
      `/api/v1/bases/${base}/api-tokens`,
      { name: 'x', scopes: { records: { read: 5 } } },
      'scopes.records.read: must be "*" or an array',
    ],
    [
      'POST',
      '/api/v1/api-tokens',
      { name: 'x', permission: 'r', resources: { type: 'nope' } },
      'resources.type: must be one of "base", "bases", "workspace" or "all"',
    ],
    [
      'POST',
      '/api/v1/api-tokens',
      { name: 'x', permission: 'r', resources: { type: 'base' } },
      'resources.base_uuid: required',
    ],
    [
      'POST',
      '/api/v1/api-tokens',
      { name: 'x', permission: 'r', resources: { type: 'bases', base_uuids: [] } },
      'resources.base_uuids: must not be empty',
    ],
    ['POST', '/api/v1/api-tokens', { name: 'x', permission: 'r' }, 'resources: required'],
    ['POST', '/api/v1/api-tokens/bulk-delete', { ids: [] }, 'ids: must not be empty'],
    ['POST', '/api/v1/api-tokens/bulk-delete', { ids: 'x' }, 'ids: must be an array'],
    [
      'POST',
      '/api/v1/api-tokens/bulk-delete',
      { ids: Array.from({ length: 101 }, () => 'aaaaaaaaaaaaaaaa') },
      'ids: must have at most 100 items',
    ],
    [
      'GET',
      '/api/v1/api-tokens?status=bogus',
      undefined,
      'status: must be one of "active", "expired" or "disabled"',
    ],
    ['GET', '/api/v1/api-tokens?foo=1', undefined, 'unknown query parameter: foo'],
    ['GET', '/api/v1/audit?limit=0', undefined, 'limit: must be at least 1'],
    ['GET', '/api/v1/audit?limit=abc', undefined, 'limit: must be a number'],
    ['GET', '/api/v1/bases/abc', undefined, 'uuid: must be a UUID'],
    ['POST', '/api/v1/users', { email: 'a@b.co', role: 'user' }, 'password: required'],
    [
      'POST',
      '/api/v1/users',
      { email: 'a@b.co', password: 'y', role: 'boss' },
      'role: must be one of "user", "team_admin" or "system_admin"',
    ],
    ['POST', '/api/v1/keys/rotate', { revoke_old: 'yes' }, 'revoke_old: must be true or false'],
    ['POST', '/api/v1/leaked-tokens', { tokens: [] }, 'tokens: must not be empty'],
    ['PUT', '/api/v1/token-policy', { require_expiry: 1 }, 'require_expiry: must be true or false'],
  ];

  it('says which field and what is wrong, in plain words, for each kind of mistake', async () => {
    const before = dbDigest(t.raw);
    for (const [method, path, body, message] of cases()) {
      const response = await t.call(method, path, { token: admin, body, headers: json });
      expect({ method, path, body, status: response.status, answer: response.body }).toEqual({
        method,
        path,
        body,
        status: 400,
        answer: errorBody('invalid_request', message),
      });
    }
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('an empty or missing body says so, whatever the Content-Type', async () => {
    const before = dbDigest(t.raw);
    const empty = 'the request body is empty; send a JSON object';
    const noBody = await t.call('POST', '/api/v1/bases', { token: admin });
    expect(noBody).toMatchObject({ status: 400, body: errorBody('invalid_request', empty) });
    const emptyJson = await t.call('POST', '/api/v1/bases', { token: admin, body: '', headers: json });
    expect(emptyJson).toMatchObject({ status: 400, body: errorBody('invalid_json', empty) });
    const signIn = await t.call('POST', '/api/v1/account-tokens', {});
    expect(signIn).toMatchObject({ status: 400, body: errorBody('invalid_request', empty) });
    // A route whose fields are all optional still takes a bare POST.
    expect((await t.call('POST', '/api/v1/base-tokens', { token: apiToken })).status).toBe(201);
    expect(dbDigest(t.raw)).not.toBe(before); // the exchange is counted; the refusals above were not
  });

  it('no raw zod phrasing leaks from any validated route, for many bad inputs', async () => {
    const bad: unknown[] = [
      undefined,
      '',
      'null',
      '[]',
      '1',
      {},
      { name: 5 },
      { name: null, permission: 5, scopes: [], resources: 1, expires_at: 5, expires_in_days: -1 },
      { email: 5, password: [], role: 'x', ids: [1], tokens: [''], token: 5, ttl: 'x', base_uuid: 'x' },
      { enabled: 'yes', grace_seconds: -1, permission: 'admin', table: '!' },
      { scopes: { records: { read: 'x', nope: [] } }, resources: { type: 'bases', base_uuids: ['x'] } },
    ];
    const paths: [string, string][] = [
      ['POST', '/api/v1/account-tokens'],
      ['POST', '/api/v1/bases'],
      ['POST', `/api/v1/bases/${base}/api-tokens`],
      ['POST', '/api/v1/api-tokens'],
      ['PATCH', '/api/v1/api-tokens/aaaaaaaaaaaaaaaa'],
      ['POST', '/api/v1/api-tokens/aaaaaaaaaaaaaaaa/regenerate'],
      ['POST', '/api/v1/api-tokens/bulk-delete'],
      ['POST', '/api/v1/users'],
      ['POST', '/api/v1/teams'],
      ['POST', '/api/v1/service-accounts'],
      ['POST', '/api/v1/keys/rotate'],
      ['POST', '/api/v1/leaked-tokens'],
      ['POST', '/api/v1/base-tokens/revoke'],
      ['POST', '/api/v1/kill-switch'],
      ['PUT', '/api/v1/token-policy'],
      ['PUT', `/api/v1/bases/${base}/members/${crypto.randomUUID()}`],
    ];
    const queries = [
      '/api/v1/api-tokens?status=x',
      '/api/v1/api-tokens?created_by=x&base_uuid=y',
      '/api/v1/audit?limit=x&outcome=y',
      '/api/v1/audit?since=yesterday',
      '/api/v1/revocations?since=x',
    ];
    let refusals = 0;
    // Some of these are accepted (a bare exchange, a key rotation with defaults); every refusal changes nothing.
    const send = async (
      label: string,
      method: string,
      path: string,
      options: Parameters<TestApp['call']>[2],
    ) => {
      const before = dbDigest(t.raw);
      const response = await t.call(method, path, options);
      if (response.status !== 400) return;
      refusals++;
      expect(response.body.error.message, label).not.toMatch(RAW_ZOD);
      expect(dbDigest(t.raw), label).toBe(before);
    };
    for (const [method, path] of paths) {
      for (const body of bad) {
        const token = path === '/api/v1/account-tokens' ? undefined : admin;
        const headers = body === undefined ? undefined : json;
        await send(`${method} ${path} ${JSON.stringify(body)}`, method, path, { token, body, headers });
      }
    }
    for (const path of queries) await send(`GET ${path}`, 'GET', path, { token: admin });
    for (const body of bad) {
      const headers = body === undefined ? undefined : json;
      await send(`exchange ${JSON.stringify(body)}`, 'POST', '/api/v1/base-tokens', {
        token: apiToken,
        body,
        headers,
      });
    }
    expect(refusals).toBeGreaterThan(150);
  });
});
