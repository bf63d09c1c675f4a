import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, start, type Running } from '../helpers/processes';

/**
 * The real thing over loopback: `tokenladder serve` (what `npm start` runs) on a file database, and the
 * example base service verifying Base-Tokens against its JWKS. Then a restart of both on the same files.
 */
describe('tokenladder and a downstream base service over real HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-e2e-'));
  const running: Running[] = [];
  let url: string;
  let serviceUrl: string;
  const env = () => ({
    TOKENLADDER_DB: join(dir, 'db', 'tokenladder.db'),
    TOKENLADDER_ISSUER: url,
    PORT: url.split(':').pop()!,
    TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
    // The base service's resource identifiers, accepted by POST /oauth/token as `resource`.
    TOKENLADDER_OAUTH_RESOURCE_URL: `${serviceUrl}/bases/{base_uuid}`,
  });

  const startTokenladder = async () => {
    const server = await start('node', ['bin/tokenladder.mjs', 'serve'], env(), /"listening"/);
    running.push(server);
    return server;
  };
  const startService = async () => {
    const service = await start(
      'node',
      ['--import', 'tsx', 'examples/base-service.ts'],
      { TOKENLADDER_URL: url, PORT: serviceUrl.split(':').pop()!, BASE_SERVICE_URL: serviceUrl },
      /base service on/,
    );
    running.push(service);
    return service;
  };
  const json = async (method: string, path: string, token?: string, body?: unknown, base = url) => {
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  let password: string;
  let server: Running;
  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
    serviceUrl = `http://127.0.0.1:${await freePort()}`;
    server = await startTokenladder();
    password = /generated password \(shown only this once, store it now\): (\S+)/.exec(server.stdout())![1]!;
    await startService();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const secrets: string[] = [];
  let readBaseToken: string;
  let baseUuid: string;
  let reader: { id: string; token: string };

  it('bootstraps an admin with a generated password printed once, and keeps key material private', () => {
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    secrets.push(password);
    expect(server.stderr()).not.toContain(password);
    expect(statSync(join(dir, 'db', 'kek.key')).mode & 0o777).toBe(0o600);
  });

  it('walks the chain: a read token can GET rows and gets 403 on a write; a rw token can write', async () => {
    const signIn = await json('POST', '/api/v1/account-tokens', undefined, {
      email: 'admin@tokenladder.local',
      password,
    });
    expect(signIn.status).toBe(201);
    const accountToken = signIn.body.token;
    baseUuid = (await json('POST', '/api/v1/bases', accountToken, { name: 'Inventory' })).body.uuid;
    reader = (
      await json('POST', `/api/v1/bases/${baseUuid}/api-tokens`, accountToken, {
        name: 'reader',
        permission: 'r',
      })
    ).body;
    const writer = (
      await json('POST', `/api/v1/bases/${baseUuid}/api-tokens`, accountToken, {
        name: 'writer',
        permission: 'rw',
      })
    ).body.token;
    secrets.push(accountToken, reader.token, writer);

    readBaseToken = (await json('POST', '/api/v1/base-tokens', reader.token)).body.base_token;
    const writeBaseToken = (await json('POST', '/api/v1/base-tokens', writer)).body.base_token;

    expect((await json('GET', `/bases/${baseUuid}/rows`, readBaseToken, undefined, serviceUrl)).status).toBe(
      200,
    );
    const denied = await json('POST', `/bases/${baseUuid}/rows`, readBaseToken, { sku: 1 }, serviceUrl);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('insufficient_scope');
    expect(
      (await json('POST', `/bases/${baseUuid}/rows`, writeBaseToken, { sku: 1 }, serviceUrl)).status,
    ).toBe(201);
    expect(
      (await json('GET', `/bases/${baseUuid}/rows`, readBaseToken, undefined, serviceUrl)).body.rows,
    ).toEqual([{ sku: 1 }]);

    const otherBase = crypto.randomUUID();
    expect((await json('GET', `/bases/${otherBase}/rows`, readBaseToken, undefined, serviceUrl)).status).toBe(
      401,
    );
    expect((await json('GET', `/bases/${baseUuid}/rows`, undefined, undefined, serviceUrl)).status).toBe(401);
  });

  it("lets an OAuth client find its way from the base service's 401 to a Base-Token (RFC 9728, RFC 8414, RFC 8707)", async () => {
    const rows = `${serviceUrl}/bases/${baseUuid}/rows`;
    const challenge = (await fetch(rows)).headers.get('www-authenticate')!;
    const metadataUrl = /^Bearer resource_metadata="([^"]+)"$/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${serviceUrl}/.well-known/oauth-protected-resource/bases/${baseUuid}`);
    const resource = await (await fetch(metadataUrl!)).json();
    expect(resource).toMatchObject({
      resource: `${serviceUrl}/bases/${baseUuid}`,
      authorization_servers: [url],
    });
    const server = await (
      await fetch(`${resource.authorization_servers[0]}/.well-known/oauth-authorization-server`)
    ).json();
    expect(server.issuer).toBe(url);

    const issued = await fetch(server.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${reader.id}:${reader.token}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: resource.resource }),
    });
    const body = await issued.json();
    expect(issued.status, JSON.stringify(body)).toBe(200);
    const read = await fetch(rows, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect([read.status, await read.json()]).toEqual([200, { rows: [{ sku: 1 }] }]);
  });

  it('stores no secret in the database files', () => {
    const files = readdirSync(join(dir, 'db')).filter((name) => name.startsWith('tokenladder.db'));
    expect(files).toContain('tokenladder.db-wal');
    const bytes = files.map((name) => readFileSync(join(dir, 'db', name)).toString('latin1')).join('');
    for (const secret of secrets) expect(bytes.includes(secret)).toBe(false);
  });

  it('keeps users, tokens and keys across a restart; earlier Base-Tokens still verify', async () => {
    await Promise.all(running.splice(0).map((process) => process.stop()));
    const restarted = await startTokenladder();
    await startService(); // a fresh verifier: it must fetch the keys from the restarted server
    expect(restarted.stdout()).not.toContain('generated password');
    expect(restarted.stderr()).not.toContain('applied migrations');

    expect((await json('GET', `/bases/${baseUuid}/rows`, readBaseToken, undefined, serviceUrl)).status).toBe(
      200,
    );
    expect(
      (
        await json('POST', '/api/v1/account-tokens', undefined, {
          email: 'admin@tokenladder.local',
          password,
        })
      ).status,
    ).toBe(201);
    expect((await json('GET', '/api/v1/me', secrets[1])).status).toBe(200);
    expect((await json('POST', '/api/v1/base-tokens', secrets[2])).status).toBe(201);
  });
});
