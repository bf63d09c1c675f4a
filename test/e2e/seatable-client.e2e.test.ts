import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, start, type Running } from '../helpers/processes';

/**
 * A script written the way SeaTable's official clients work (seatable-api for Python and JS), pointed
 * at tokenladder as its `server_url`, with the example base service standing in for dtable-server.
 */
describe('a SeaTable-style client against tokenladder over real HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-seatable-'));
  const running: Running[] = [];
  let serverUrl: string;
  const admin = { email: 'owner@example.com', password: 'a long enough admin passphrase' };

  beforeAll(async () => {
    const port = await freePort();
    const servicePort = await freePort();
    serverUrl = `http://127.0.0.1:${port}`;
    running.push(
      await start(
        'node',
        ['bin/tokenladder.mjs', 'serve'],
        {
          TOKENLADDER_DB: join(dir, 'tokenladder.db'),
          PORT: String(port),
          TOKENLADDER_ISSUER: serverUrl,
          TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
          TOKENLADDER_ADMIN_EMAIL: admin.email,
          TOKENLADDER_ADMIN_PASSWORD: admin.password,
          TOKENLADDER_BASE_SERVER_URL: `http://127.0.0.1:${servicePort}`,
        },
        /"listening"/,
      ),
    );
    running.push(
      await start(
        'node',
        ['--import', 'tsx', 'examples/base-service.ts'],
        { TOKENLADDER_URL: serverUrl, PORT: String(servicePort) },
        /base service on/,
      ),
    );
  }, 30_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with form data, creates a base, gets a temporary token, exchanges it and reaches the base', async () => {
    // Account.auth(): form-encoded login, then "Token <token>" on every call.
    const login = await fetch(`${serverUrl}/api2/auth-token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: admin.email, password: admin.password }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const headers = { Authorization: `Token ${token}` };

    const workspaces = (await (await fetch(`${serverUrl}/api/v2.1/workspaces/`, { headers })).json()) as {
      workspace_list: { id: string }[];
    };
    const workspaceId = workspaces.workspace_list[0]!.id;

    const created = await fetch(`${serverUrl}/api/v2.1/dtables/`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Client base', owner: admin.email }),
    });
    expect(created.status).toBe(201);

    // Account.get_base(): temporary API-Token, then app-access-token with it.
    const temp = await fetch(
      `${serverUrl}/api/v2.1/workspace/${workspaceId}/dtable/${encodeURIComponent('Client base')}/temp-api-token/`,
      { headers },
    );
    const { api_token } = (await temp.json()) as { api_token: string };
    const access = await fetch(`${serverUrl}/api/v2.1/dtable/app-access-token/`, {
      headers: { Authorization: `Token ${api_token}` },
    });
    expect(access.status).toBe(200);
    const auth = (await access.json()) as {
      access_token: string;
      dtable_uuid: string;
      dtable_server: string;
      use_api_gateway: boolean;
    };
    expect(typeof auth.dtable_server).toBe('string'); // the Python client calls rstrip() on it
    expect(auth.dtable_server.endsWith('/')).toBe(true);
    expect(auth.use_api_gateway).toBe(false);

    // The legacy dtable-server path the JS client builds from dtable_server.
    const metadata = await fetch(`${auth.dtable_server}api/v1/dtables/${auth.dtable_uuid}/metadata/`, {
      headers: { Authorization: `Token ${auth.access_token}` },
    });
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toEqual({
      metadata: { base_uuid: auth.dtable_uuid, permission: 'rw', tables: [] },
    });

    const wrongBase = await fetch(`${auth.dtable_server}api/v1/dtables/${crypto.randomUUID()}/metadata/`, {
      headers: { Authorization: `Token ${auth.access_token}` },
    });
    expect(wrongBase.status).toBe(401);
    const anonymous = await fetch(`${auth.dtable_server}api/v1/dtables/${auth.dtable_uuid}/metadata/`);
    expect(anonymous.status).toBe(401);
  });
});
