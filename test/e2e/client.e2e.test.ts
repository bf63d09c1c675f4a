import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, exchange, unwrap, type TokenladderClient } from '../../src/client';
import { createBaseTokenVerifier } from '../../src/verify';
import { ADMIN } from '../helpers/app';
import { serveTokenladder, type Running } from '../helpers/processes';

// The typed client (src/client) over real HTTP against `tokenladder serve`; the in-process cases are in
// test/client/client.test.ts.
describe('the client against a running server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-client-'));
  let server: Running;
  let baseUrl: string;
  beforeAll(async () => {
    const started = await serveTokenladder({
      TOKENLADDER_DB: join(dir, 'client.db'),
      TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
      TOKENLADDER_ADMIN_EMAIL: ADMIN.email,
      TOKENLADDER_ADMIN_PASSWORD: ADMIN.password,
    });
    server = started;
    baseUrl = `${started.url}/`;
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks the whole chain with typed calls', async () => {
    const anonymous = createClient({ baseUrl });
    const signedIn = unwrap(
      await anonymous.POST('/api/v1/account-tokens', {
        body: { email: ADMIN.email, password: ADMIN.password, name: 'client test' },
      }),
    );
    const tl: TokenladderClient = createClient({ baseUrl, token: signedIn.token });
    expect(unwrap(await tl.GET('/api/v1/me')).email).toBe(ADMIN.email);

    const base = unwrap(await tl.POST('/api/v1/bases', { body: { name: 'Typed' } }));
    const created = unwrap(
      await tl.POST('/api/v1/bases/{uuid}/api-tokens', {
        params: { path: { uuid: base.uuid } },
        body: { name: 'typed', permission: 'rw' },
      }),
    );
    const listed = unwrap(
      await tl.GET('/api/v1/api-tokens', { params: { query: { base_uuid: base.uuid } } }),
    );
    expect(listed.api_tokens.map((token) => token.name)).toEqual(['typed']);
    expect(JSON.stringify(listed)).not.toContain(created.token);

    // Asking for less (attenuation), then verifying offline against the JWKS.
    const issued = await exchange(anonymous, created.token, { permission: 'r' });
    const verifier = createBaseTokenVerifier({
      issuer: baseUrl.replace(/\/$/, ''),
      jwksUrl: `${baseUrl}.well-known/jwks.json`,
    });
    const claims = await verifier.verify(issued.base_token, { baseUuid: base.uuid });
    expect(claims.permission).toBe('r');

    const refused = await anonymous.POST('/api/v1/account-tokens', {
      body: { email: ADMIN.email, password: 'wrong password, certainly' },
    });
    expect(() => unwrap(refused)).toThrow(
      expect.objectContaining({ status: 401, code: 'invalid_credentials' }),
    );
  });
});
