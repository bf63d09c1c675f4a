import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SCHEMA_FILE, clientSchemaSource } from '../../scripts/generate-client';
import { createBaseTokenSource, TokenladderError, type TokenladderClient } from '../../src/client';
import { OPENAPI_PATH } from '../../src/openapi/document';
import { inProcessClient, testApp, type TestApp } from '../helpers/app';

describe('the generated client types', () => {
  it('match the live OpenAPI document (run `npm run gen:client` after changing a route)', async () => {
    const t = await testApp();
    const document = await (await t.app.request(OPENAPI_PATH)).json();
    expect(readFileSync(CLIENT_SCHEMA_FILE, 'utf8')).toBe(await clientSchemaSource(document));
  });

  it('notice a changed document', async () => {
    const t = await testApp();
    const document = await (await t.app.request(OPENAPI_PATH)).json();
    document.paths['/api/v1/me'].get.summary = 'Someone else';
    expect(readFileSync(CLIENT_SCHEMA_FILE, 'utf8')).not.toBe(await clientSchemaSource(document));
  });
});

describe('createBaseTokenSource', () => {
  let t: TestApp;
  let apiToken: string;
  beforeAll(async () => {
    t = await testApp();
    const admin = await t.login();
    apiToken = (await t.createApiToken(admin, await t.createBase(admin, 'Renewals'), 'renewing', 'r')).token;
  });

  it('caches the Base-Token and exchanges again shortly before it expires', async () => {
    const { client, calls } = inProcessClient(t);
    const source = createBaseTokenSource({ client, apiToken, renewBeforeSeconds: 300, now: t.clock.now });
    const first = await source.current();
    expect(first.permission).toBe('r');
    expect(await source.token()).toBe(first.base_token);
    expect(calls).toEqual(['POST /api/v1/base-tokens']);

    const lifetime = Date.parse(first.expires_at) - t.clock.now();
    t.clock.advance(lifetime / 1000 - 301);
    expect(await source.token()).toBe(first.base_token);
    expect(calls).toHaveLength(1);

    t.clock.advance(2); // now within 300 s of the expiry
    const renewed = await source.current();
    expect(renewed.base_token).not.toBe(first.base_token);
    expect(Date.parse(renewed.expires_at)).toBeGreaterThan(Date.parse(first.expires_at));
    expect(calls).toHaveLength(2);
  });

  it('shares one exchange between concurrent callers, and exchanges again after invalidate()', async () => {
    const { client, calls } = inProcessClient(t);
    const source = createBaseTokenSource({ client, apiToken, now: t.clock.now });
    const tokens = await Promise.all([source.token(), source.token(), source.token()]);
    expect(new Set(tokens).size).toBe(1);
    expect(calls).toHaveLength(1);
    source.invalidate();
    await source.token();
    expect(calls).toHaveLength(2);
  });

  it('throws the server error code and retries on the next call', async () => {
    const { client, calls } = inProcessClient(t);
    const source = createBaseTokenSource({ client, apiToken: 'tl_api_bogus', now: t.clock.now });
    const failure = await source.token().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TokenladderError);
    expect(failure).toMatchObject({ status: 401, code: 'token_invalid' });
    await expect(source.token()).rejects.toThrow(TokenladderError);
    expect(calls).toHaveLength(2);
  });
});

// Compile-time checks (tsc runs over test/): the client refuses paths and bodies the document does not have.
function typeChecks(tl: TokenladderClient) {
  // @ts-expect-error no such path
  void tl.GET('/api/v1/nope');
  void tl.POST('/api/v1/bases/{uuid}/api-tokens', {
    params: { path: { uuid: 'x' } },
    // @ts-expect-error permission is r or rw
    body: { name: 'x', permission: 'admin' },
  });
  // @ts-expect-error the path parameter is required
  void tl.GET('/api/v1/bases/{uuid}');
}
void typeChecks;
