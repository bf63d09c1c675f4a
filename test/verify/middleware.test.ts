import { describe, it, expect } from 'vitest';
import { Hono } from 'hono';
import { createBaseTokenVerifier, type BaseTokenVerifier } from '../../src/verify';
import { baseTokenAuth, requireScope, requireWrite, type BaseTokenEnv } from '../../src/verify/hono';
import { createBaseService } from '../../examples/base-service';
import {
  BASE_A,
  BASE_B,
  ISSUER,
  NOW,
  NOW_S,
  claims,
  createTestKey,
  jwksOf,
  sign,
  startJwksServer,
} from './helpers';

const key = await createTestKey();
const verifier = createBaseTokenVerifier({ issuer: ISSUER, jwks: jwksOf(key), currentDate: () => NOW });
const tokenFor = (overrides: Record<string, unknown> = {}, baseUuid = BASE_A) =>
  sign(key, { claims: claims(overrides, baseUuid) });

const rowsPath = (baseUuid = BASE_A) => `/bases/${baseUuid}/rows`;

function get(app: Hono<BaseTokenEnv>, authorization?: string, path = rowsPath()) {
  const headers = new Headers();
  if (authorization !== undefined) headers.set('Authorization', authorization);
  return app.request(path, { headers });
}

function post(
  app: Hono<BaseTokenEnv>,
  token: string,
  body: unknown = { name: 'row' },
  contentType = 'application/json',
) {
  return app.request(rowsPath(), {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectInvalidToken(res: Response, code: string) {
  expect(res.status).toBe(401);
  expect(res.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"');
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

describe('baseTokenAuth via the example base service', () => {
  it('missing Authorization: 401 with a bare RFC 6750 challenge', async () => {
    const res = await get(createBaseService({ verifier }));
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="tokenladder"');
    expect(await res.json()).toEqual({ error: { code: 'token_missing', message: expect.any(String) } });
  });

  it.each(['Bearer', 'bearer', 'BEARER', 'Token', 'token'])('accepts the %s scheme', async (scheme) => {
    const res = await get(createBaseService({ verifier }), `${scheme} ${await tokenFor()}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rows: [] });
  });

  it('rejects a comma-joined duplicate header (Bearer A, Bearer B)', async () => {
    const app = createBaseService({ verifier });
    const a = await tokenFor();
    const b = await tokenFor({ jti: 'jti-2' });
    await expectInvalidToken(await get(app, `Bearer ${a}, Bearer ${b}`), 'token_malformed');
    const headers = new Headers();
    headers.append('Authorization', `Bearer ${a}`);
    headers.append('Authorization', `Bearer ${b}`);
    await expectInvalidToken(await app.request(rowsPath(), { headers }), 'token_malformed');
  });

  it.each([
    ['Basic scheme', (t: string) => `Basic ${t}`],
    ['no token', () => 'Bearer'],
    ['empty header', () => ''],
    ['two spaces', (t: string) => `Bearer  ${t}`],
    ['trailing text', (t: string) => `Bearer ${t} extra`],
    ['token in quotes', (t: string) => `Bearer "${t}"`],
  ])('rejects a malformed header: %s', async (_name, header) => {
    await expectInvalidToken(
      await get(createBaseService({ verifier }), header(await tokenFor())),
      'token_malformed',
    );
  });

  it('r token: GET 200, POST 403 insufficient_scope', async () => {
    const app = createBaseService({ verifier });
    const token = await tokenFor({ permission: 'r' });
    expect((await get(app, `Bearer ${token}`)).status).toBe(200);
    const res = await post(app, token);
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(await res.json()).toEqual({ error: { code: 'insufficient_scope', message: expect.any(String) } });
    expect(await (await get(app, `Bearer ${token}`)).json()).toEqual({ rows: [] });
  });

  it.each(['rw', 'admin'])('%s token: POST 201, row visible to GET', async (permission) => {
    const app = createBaseService({ verifier });
    const token = await tokenFor({ permission });
    const res = await post(app, token, { name: 'first' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ row: { name: 'first' } });
    expect(await (await get(app, `Bearer ${token}`)).json()).toEqual({ rows: [{ name: 'first' }] });
  });

  it('rows are kept per app instance and per base', async () => {
    const first = createBaseService({ verifier });
    await post(first, await tokenFor());
    const tokenB = await tokenFor({}, BASE_B);
    expect(await (await get(first, `Bearer ${tokenB}`, rowsPath(BASE_B))).json()).toEqual({ rows: [] });
    expect(await (await get(createBaseService({ verifier }), `Bearer ${await tokenFor()}`)).json()).toEqual({
      rows: [],
    });
  });

  it('token for base A at base B: 401 token_audience_mismatch', async () => {
    const res = await get(createBaseService({ verifier }), `Bearer ${await tokenFor()}`, rowsPath(BASE_B));
    await expectInvalidToken(res, 'token_audience_mismatch');
  });

  it('a route param that is no UUID: 401, not 500', async () => {
    const res = await get(
      createBaseService({ verifier }),
      `Bearer ${await tokenFor()}`,
      '/bases/not-a-uuid/rows',
    );
    await expectInvalidToken(res, 'token_audience_mismatch');
  });

  it('expired token: 401 token_expired', async () => {
    const token = await tokenFor({ iat: NOW_S - 7200, exp: NOW_S - 3600 });
    await expectInvalidToken(await get(createBaseService({ verifier }), `Bearer ${token}`), 'token_expired');
  });

  it('POST with a wrong content type is 415, invalid JSON 400', async () => {
    const app = createBaseService({ verifier });
    const token = await tokenFor();
    expect((await post(app, token, 'name=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post(app, token, '{"name":', 'application/json')).status).toBe(400);
  });

  it('JWKS unreachable: 503 with Retry-After', async () => {
    const server = await startJwksServer(jwksOf(key));
    server.setMode('error');
    try {
      const remote = createBaseTokenVerifier({ issuer: ISSUER, jwksUrl: server.url, currentDate: () => NOW });
      const res = await get(createBaseService({ verifier: remote }), `Bearer ${await tokenFor()}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('Retry-After')).toBe('30');
      expect(res.headers.get('WWW-Authenticate')).toBeNull();
      expect(await res.json()).toEqual({ error: { code: 'jwks_unavailable', message: expect.any(String) } });
    } finally {
      await server.close();
    }
  });
});

describe('middleware outside the example', () => {
  it('falls back to the verifier audience when baseUuid is not configured', async () => {
    const withAudience: BaseTokenVerifier = createBaseTokenVerifier({
      issuer: ISSUER,
      jwks: jwksOf(key),
      currentDate: () => NOW,
      audience: `urn:tokenladder:base:${BASE_A}`,
    });
    const app = new Hono<BaseTokenEnv>().get('/me', baseTokenAuth(withAudience), (c) =>
      c.json(c.var.baseToken),
    );
    const res = await app.request('/me', { headers: { Authorization: `Bearer ${await tokenFor()}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(claims());
  });

  it('requireWrite without baseTokenAuth is a programming error (500), never a pass', async () => {
    const app = new Hono<BaseTokenEnv>()
      .post('/w', requireWrite(), (c) => c.text('wrote'))
      .onError((error, c) => c.text(error.message, 500));
    const res = await app.request('/w', { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('requireWrite() must run after baseTokenAuth()');
  });
});

describe('requireScope (fine-grained scp claims)', () => {
  const app = () =>
    new Hono<BaseTokenEnv>().patch(
      '/bases/:base_uuid/tables/:table/rows',
      baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid') }),
      requireScope('records:update', { table: (c) => c.req.param('table') }),
      (c) => c.json({ ok: true }),
    );
  const patchRows = async (table: string, overrides: Record<string, unknown>) =>
    app().request(`/bases/${BASE_A}/tables/${table}/rows`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${await tokenFor(overrides)}` },
    });
  const scp = { v: 1, c: { records: 'rw' }, t: { create: [], read: ['*'], update: ['tbl1'], delete: [] } };

  it('lets an action through only for the tables the scopes name', async () => {
    expect((await patchRows('tbl1', { permission: 'custom', scp })).status).toBe(200);
    const denied = await patchRows('tbl2', { permission: 'custom', scp });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('WWW-Authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('insufficient_scope');
  });

  it('falls back to the coarse permission without scp, and denies custom without scp', async () => {
    expect((await patchRows('tbl2', { permission: 'rw' })).status).toBe(200);
    expect((await patchRows('tbl2', { permission: 'r' })).status).toBe(403);
    expect((await patchRows('tbl2', { permission: 'custom' })).status).toBe(403);
  });

  it('rejects a token whose scp is malformed', async () => {
    const res = await patchRows('tbl1', {
      permission: 'custom',
      scp: { v: 1, c: { records: 'everything' } },
    });
    await expectInvalidToken(res, 'token_claims_invalid');
  });
});

describe('the example base service as an OAuth protected resource (RFC 9728)', () => {
  const SERVICE = 'http://localhost:8788';
  const app = () => createBaseService({ verifier, oauth: { url: SERVICE, issuer: ISSUER } });
  const metadataUrl = (baseUuid = BASE_A) =>
    `${SERVICE}/.well-known/oauth-protected-resource/bases/${baseUuid}`;

  it("serves each base's metadata, naming tokenladder as the authorization server", async () => {
    const res = await app().request(`/.well-known/oauth-protected-resource/bases/${BASE_A}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await res.json()).toEqual({
      resource: `${SERVICE}/bases/${BASE_A}`,
      authorization_servers: [ISSUER],
      scopes_supported: ['records:read', 'records:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'tokenladder example base service',
    });
    // Without the option there is no metadata.
    expect((await createBaseService({ verifier }).request(new URL(metadataUrl()).pathname)).status).toBe(404);
  });

  it('points every 401 to that metadata: no token, a refused token, and on the SeaTable route', async () => {
    const missing = await get(app());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('WWW-Authenticate')).toBe(`Bearer resource_metadata="${metadataUrl()}"`);

    const expired = await get(app(), `Bearer ${await tokenFor({ iat: NOW_S - 7200, exp: NOW_S - 3600 })}`);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('WWW-Authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${((await expired.json()) as { error: { message: string } }).error.message}", resource_metadata="${metadataUrl()}"`,
    );

    // Another base's route names that base's resource.
    const other = await get(app(), `Bearer ${await tokenFor()}`, rowsPath(BASE_B));
    expect(other.headers.get('WWW-Authenticate')).toContain(`resource_metadata="${metadataUrl(BASE_B)}"`);

    // SeaTable's route serves the same base, so it names the same resource's metadata.
    const seatable = await get(app(), undefined, `/api/v1/dtables/${BASE_A}/metadata/`);
    expect(seatable.status).toBe(401);
    expect(seatable.headers.get('WWW-Authenticate')).toBe(`Bearer resource_metadata="${metadataUrl()}"`);
  });

  it('names the scope a write needs in the 403; a valid token still gets through', async () => {
    const token = await tokenFor({ permission: 'r' });
    expect((await get(app(), `Bearer ${token}`)).status).toBe(200);
    const res = await post(app(), token);
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="This token cannot write to this base.", scope="records:write", resource_metadata="${metadataUrl()}"`,
    );
  });
});
