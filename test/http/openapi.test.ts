import { Validator } from '@seriousme/openapi-schema-validator';
// ajv arrives with @seriousme/openapi-schema-validator; OpenAPI 3.1 schemas are JSON Schema 2020-12.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app';
import { DOCS_PATH, DOCS_SCRIPT_PATH, OPENAPI_PATH } from '../../src/openapi/document';
import { testApp, type TestApp } from '../helpers/app';

// biome-ignore lint/suspicious/noExplicitAny: the document is walked by JSON pointers, checked by the validator
type Doc = any;
type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { $ref?: string }>;
};

const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Every method + path the app serves that the document does not describe fully: an operation with a
 * summary, tags, a success response, and the error responses its credential and body imply.
 */
function documentationGaps(app: App, doc: Doc): string[] {
  const served = new Set(
    app.routes
      // /ui is the HTML token-management page (forms, not API operations): not in the document.
      .filter(
        (route) =>
          route.method !== 'ALL' &&
          route.path !== OPENAPI_PATH &&
          route.path !== DOCS_PATH &&
          // The reference's own script (a static file, like /ui/assets).
          route.path !== DOCS_SCRIPT_PATH &&
          route.path !== '/ui' &&
          !route.path.startsWith('/ui/'),
      )
      .map((route) => `${route.method} ${openApiPath(route.path)}`),
  );
  const gaps: string[] = [];
  for (const key of served) {
    const [method, path] = key.split(' ') as [string, string];
    const operation: Operation | undefined = doc.paths[path]?.[method.toLowerCase()];
    const problems: string[] = [];
    if (!operation) problems.push('no operation');
    else {
      if (!operation.summary) problems.push('no summary');
      if (!operation.tags?.length) problems.push('no tags');
      const statuses = Object.keys(operation.responses);
      if (!statuses.some((status) => /^2\d\d$/.test(status))) problems.push('no success response');
      const needed = [
        ...(operation.security?.length ? ['401'] : []),
        ...(operation.requestBody ? ['400', '413', '415'] : []),
      ];
      for (const status of needed) if (!statuses.includes(status)) problems.push(`no ${status} response`);
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        const ref = operation.responses[status]!.$ref;
        if (!ref?.startsWith('#/components/responses/') || !doc.components.responses[ref.split('/').pop()!])
          problems.push(`${status} is not a shared error response`);
      }
    }
    if (problems.length > 0) gaps.push(`${key}: ${problems.join(', ')}`);
  }
  return gaps.sort();
}

async function documentOf(t: { app: App }): Promise<Doc> {
  const response = await t.app.request(OPENAPI_PATH);
  expect(response.status).toBe(200);
  return response.json();
}

/** Validates instances against schemas of the document (their `$ref`s resolve inside it). */
function schemaChecker(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: doc.components, paths: doc.paths });
  const check = (pointer: string, value: unknown) => {
    const validate = ajv.getSchema(`doc#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    return validate(value) ? null : ajv.errorsText(validate.errors);
  };
  const escapePointer = (path: string) => path.replaceAll('~', '~0').replaceAll('/', '~1');
  return {
    requestBody: (method: string, path: string, body: unknown) =>
      check(`/paths/${escapePointer(path)}/${method}/requestBody/content/application~1json/schema`, body),
    response: (method: string, path: string, status: number, body: unknown) => {
      const responses = doc.paths[path]?.[method]?.responses ?? {};
      const ref: string | undefined = responses[status]?.$ref;
      const pointer = ref
        ? `/components/responses/${ref.split('/').pop()}`
        : `/paths/${escapePointer(path)}/${method}/responses/${status}`;
      return check(`${pointer}/content/application~1json/schema`, body);
    },
  };
}

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: Doc;
  beforeAll(async () => {
    t = await testApp();
    doc = await documentOf(t);
  });

  it('is a valid OpenAPI 3.1 document, public and briefly cacheable', async () => {
    const response = await t.app.request(OPENAPI_PATH);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      token: { type: 'apiKey', in: 'header', name: 'Authorization' },
    });
  });

  it('describes every route the app serves, with its error responses', () => {
    expect(documentationGaps(t.app, doc)).toEqual([]);
    // Spot checks of what routeDoc() derives.
    const login = doc.paths['/api/v1/account-tokens'].post;
    expect(login.security).toEqual([]);
    expect(Object.keys(login.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '413', '415', '429']),
    );
    expect(login.requestBody.content['application/json'].schema.examples).toBeDefined();
    expect(doc.paths['/api/v1/me'].get.security).toEqual([{ bearer: [] }, { token: [] }]);
    expect(
      doc.paths['/api/v1/api-tokens'].get.parameters.map(
        (p: { name: string; in: string }) => `${p.in}:${p.name}`,
      ),
    ).toEqual(['query:base_uuid', 'query:created_by', 'query:status']);
    expect(doc.paths['/api2/auth-token/'].post.responses['400']).toEqual({
      $ref: '#/components/responses/SeatableError',
    });
  });

  it('fails for a route added without a description', async () => {
    const fresh = await testApp();
    fresh.app.get('/api/v1/undocumented', (c) => c.json({}));
    fresh.app.post('/api/v1/half-documented/:id', (c) => c.json({}));
    const gaps = documentationGaps(fresh.app, await documentOf(fresh));
    expect(gaps).toEqual([
      'GET /api/v1/undocumented: no operation',
      'POST /api/v1/half-documented/{id}: no operation',
    ]);
  });

  it('documents request bodies that refuse what the routes refuse', async () => {
    const schemas = schemaChecker(doc);
    const admin = await t.login();
    const base = await t.createBase(admin, 'Documented');
    const bodies: [string, string, unknown][] = [
      ['/api/v1/account-tokens', '/api/v1/account-tokens', { email: 'nobody@example.com', password: 'x' }],
      ['/api/v1/account-tokens', '/api/v1/account-tokens', { email: 'nobody@example.com' }],
      ['/api/v1/account-tokens', '/api/v1/account-tokens', { email: 'not an email', password: 'x' }],
      [
        '/api/v1/account-tokens',
        '/api/v1/account-tokens',
        { email: 'nobody@example.com', password: 'x', admin: true },
      ],
      [
        '/api/v1/account-tokens',
        '/api/v1/account-tokens',
        { email: 'nobody@example.com', password: 'x', expires_in_days: 0 },
      ],
      ['/api/v1/account-tokens', '/api/v1/account-tokens', { email: 'nobody@example.com', password: 7 }],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'ok', permission: 'r' },
      ],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'bad', permission: 'admin' },
      ],
      ['/api/v1/bases/{uuid}/api-tokens', `/api/v1/bases/${base}/api-tokens`, { name: '', permission: 'r' }],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'x'.repeat(101), permission: 'r' },
      ],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'days', permission: 'r', expires_in_days: 3651 },
      ],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'scoped', scopes: { records: { read: '*' }, comments: 'r' } },
      ],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'scoped2', scopes: { records: 'x' } },
      ],
      [
        '/api/v1/bases/{uuid}/api-tokens',
        `/api/v1/bases/${base}/api-tokens`,
        { name: 'extra', permission: 'r', owner: 'me' },
      ],
    ];
    for (const [template, path, body] of bodies) {
      const response = await t.call('POST', path, {
        token: template.includes('api-tokens') ? admin : undefined,
        body,
      });
      const documented = schemas.requestBody('post', template, body);
      expect({ body, refusedByRoute: response.status === 400 }).toEqual({
        body,
        refusedByRoute: documented !== null,
      });
    }
  });

  it('documents the responses the routes really send', async () => {
    const schemas = schemaChecker(doc);
    const conforms = async (
      method: string,
      template: string,
      path: string,
      token?: string,
      body?: unknown,
    ) => {
      const response = await t.call(method.toUpperCase(), path, { token, body });
      expect({ path, problem: schemas.response(method, template, response.status, response.body) }).toEqual({
        path,
        problem: null,
      });
      return response.body;
    };
    const login = await conforms('post', '/api/v1/account-tokens', '/api/v1/account-tokens', undefined, {
      email: 'admin@example.com',
      password: 'correct horse battery staple',
    });
    const admin: string = login.token;
    await conforms('get', '/api/v1/ping', '/api/v1/ping');
    await conforms('get', '/api/v1/server-info', '/api/v1/server-info');
    await conforms('get', '/.well-known/jwks.json', '/.well-known/jwks.json');
    await conforms('get', '/api/v1/me', '/api/v1/me', admin);
    await conforms('get', '/api/v1/account-tokens', '/api/v1/account-tokens', admin);
    const base = await conforms('post', '/api/v1/bases', '/api/v1/bases', admin, { name: 'Responses' });
    await conforms('get', '/api/v1/bases', '/api/v1/bases', admin);
    await conforms('get', '/api/v1/bases/{uuid}', `/api/v1/bases/${base.uuid}`, admin);
    await conforms('get', '/api/v1/workspaces', '/api/v1/workspaces', admin);
    await conforms('get', '/api/v1/bases/{uuid}/members', `/api/v1/bases/${base.uuid}/members`, admin);
    const created = await conforms(
      'post',
      '/api/v1/bases/{uuid}/api-tokens',
      `/api/v1/bases/${base.uuid}/api-tokens`,
      admin,
      { name: 'report', permission: 'r', expires_in_days: 7 },
    );
    await conforms('post', '/api/v1/api-tokens', '/api/v1/api-tokens', admin, {
      name: 'all',
      resources: { type: 'all' },
      scopes: { records: { read: '*', create: ['tbl1'] } },
    });
    await conforms('get', '/api/v1/api-tokens', '/api/v1/api-tokens', admin);
    await conforms('get', '/api/v1/api-tokens/{id}', `/api/v1/api-tokens/${created.id}`, admin);
    await conforms('patch', '/api/v1/api-tokens/{id}', `/api/v1/api-tokens/${created.id}`, admin, {
      name: 'renamed',
    });
    const regenerated = await conforms(
      'post',
      '/api/v1/api-tokens/{id}/regenerate',
      `/api/v1/api-tokens/${created.id}/regenerate`,
      admin,
      { grace_seconds: 60 },
    );
    await conforms(
      'post',
      '/api/v1/api-tokens/{id}/explain',
      `/api/v1/api-tokens/${created.id}/explain`,
      admin,
      { action: 'records:update' },
    );
    const response = await t.app.request('/api/v1/base-tokens', {
      method: 'POST',
      headers: { authorization: `Token ${regenerated.token}` },
    });
    expect(
      schemas.response('post', '/api/v1/base-tokens', response.status, await response.json()),
    ).toBeNull();
    await conforms('get', '/api/v1/users', '/api/v1/users', admin);
    await conforms('post', '/api/v1/teams', '/api/v1/teams', admin, { name: 'Ops' });
    await conforms('get', '/api/v1/keys', '/api/v1/keys', admin);
    await conforms('get', '/api/v1/token-policy', '/api/v1/token-policy', admin);
    await conforms('post', '/api/v1/service-accounts', '/api/v1/service-accounts', admin, { name: 'etl' });
    // Errors, in the shared error shape.
    await conforms('get', '/api/v1/me', '/api/v1/me');
    await conforms('get', '/api/v1/api-tokens/{id}', '/api/v1/api-tokens/aaaaaaaaaaaaaaaa', admin);
    // SeaTable's shapes.
    const seatableLogin = await t.app.request('/api2/auth-token/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin@example.com', password: 'wrong' }),
    });
    expect(
      schemas.response('post', '/api2/auth-token/', seatableLogin.status, await seatableLogin.json()),
    ).toBeNull();
    const access = await t.app.request('/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${regenerated.token}` },
    });
    expect(access.status).toBe(200);
    expect(
      schemas.response('get', '/api/v2.1/dtable/app-access-token/', 200, await access.json()),
    ).toBeNull();
  });

  it('a response with an undocumented field fails the check', () => {
    const schemas = schemaChecker(doc);
    expect(schemas.response('get', '/api/v1/server-info', 200, { surprise: true })).not.toBeNull();
  });
});

describe('GET /docs', () => {
  it('serves the interactive reference without credentials', async () => {
    const t = await testApp();
    const response = await t.app.request(DOCS_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    // The CDN script runs in a sandbox (an opaque origin): it cannot act as tokenladder's origin.
    expect(response.headers.get('content-security-policy')).toMatch(
      /^sandbox allow-scripts allow-popups; default-src 'none'; /,
    );
    expect(await response.text()).toContain(OPENAPI_PATH);
  });
});
