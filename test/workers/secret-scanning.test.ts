// GitHub's secret-scanning endpoint inside workerd (D1): the signature check is Web Crypto only (the
// PEM imported as SPKI, the DER signature turned into r||s), so it must verify there as on Node.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Target } from '../scenarios/chain';
import { applyMigrationsWithWrangler, startWorkerd } from './harness';

const PATH = '/api/v1/secret-scanning/github';

describe('GitHub secret scanning inside workerd (D1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-workerd-scanning-'));
  const github = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = JSON.stringify({
    public_keys: [
      {
        key_identifier: 'github-test',
        key: github.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        is_current: true,
      },
    ],
  });
  let run: Awaited<ReturnType<typeof startWorkerd>>;
  let target: Target;

  beforeAll(async () => {
    await applyMigrationsWithWrangler(dir);
    run = await startWorkerd(dir, [{ name: 'tokenladder', env: { TOKENLADDER_GITHUB_SCANNING_KEYS: keys } }]);
    target = run.target();
  }, 60_000);
  afterAll(async () => {
    await run?.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies a report signed as GitHub signs, revokes the token, and refuses a bad signature', async () => {
    const admin = (await call(target, 'POST', '/api/v1/account-tokens', { body: target.admin })).body.token;
    const base = (await call(target, 'POST', '/api/v1/bases', { token: admin, body: { name: 'Leaky' } })).body
      .uuid;
    const apiToken = (
      await call(target, 'POST', `/api/v1/bases/${base}/api-tokens`, {
        token: admin,
        body: { name: 'leaked', permission: 'r' },
      })
    ).body.token;
    const body = JSON.stringify([
      { token: apiToken, type: 'tokenladder_api_token', url: 'https://github.com/o/r', source: 'content' },
    ]);
    const signature = sign('sha256', Buffer.from(body), github.privateKey).toString('base64');
    const headers = (sig: string) => ({
      'github-public-key-identifier': 'github-test',
      'github-public-key-signature': sig,
    });
    const forged = sign('sha256', Buffer.from(`${body} `), github.privateKey).toString('base64');
    expect((await call(target, 'POST', PATH, { body, headers: headers(forged) })).status).toBe(401);
    expect((await call(target, 'POST', '/api/v1/base-tokens', { token: apiToken })).status).toBe(201);
    const answer = await call(target, 'POST', PATH, { body, headers: headers(signature) });
    expect(answer).toMatchObject({
      status: 200,
      body: [{ token_raw: apiToken, token_type: 'tokenladder_api_token', label: 'true_positive' }],
    });
    expect((await call(target, 'POST', '/api/v1/base-tokens', { token: apiToken })).status).toBe(401);
  });
});
