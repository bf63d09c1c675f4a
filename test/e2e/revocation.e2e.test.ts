import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, jsonCaller, serveTokenladder, start, type Running } from '../helpers/processes';

const POLL_SECONDS = 1;

/**
 * The revocation bound end to end: tokenladder and the example base service as real processes; an
 * API-Token is deleted (then another disabled, another reported leaked) and its Base-Token, still
 * within its 3 days and already verified once (so in the verifier's cache), stops at the service
 * within one poll interval.
 */
describe('revoked Base-Tokens stop at a verifier within the poll interval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-revocation-'));
  const running: Running[] = [];
  let url: string;
  let serviceUrl: string;
  let admin: string;
  let base: string;

  const call = jsonCaller(() => url);

  beforeAll(async () => {
    const server = await serveTokenladder({
      TOKENLADDER_DB: join(dir, 'tokenladder.db'),
      TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
      TOKENLADDER_ADMIN_PASSWORD: 'an admin password for this test',
      // No push stream: this test is about the poll bound (revocation-stream.e2e.test.ts pushes).
      TOKENLADDER_REVOCATION_STREAMS_MAX: '0',
    });
    running.push(server);
    url = server.url;
    serviceUrl = `http://127.0.0.1:${await freePort()}`;
    running.push(
      await start(
        'node',
        ['--import', 'tsx', 'examples/base-service.ts'],
        { TOKENLADDER_URL: url, PORT: serviceUrl.split(':').pop()!, REVOCATION_POLL: String(POLL_SECONDS) },
        /base service on/,
      ),
    );
    admin = (
      await call('POST', '/api/v1/account-tokens', undefined, {
        email: 'admin@tokenladder.local',
        password: 'an admin password for this test',
      })
    ).body.token;
    base = (await call('POST', '/api/v1/bases', admin, { name: 'Revocation' })).body.uuid;
  }, 40_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Mints a token, gets a Base-Token, checks it works at the service (and is cached there). */
  async function workingBaseToken(name: string) {
    const apiToken = (
      await call('POST', `/api/v1/bases/${base}/api-tokens`, admin, { name, permission: 'r' })
    ).body;
    const baseToken = (await call('POST', '/api/v1/base-tokens', apiToken.token)).body.base_token as string;
    expect((await call('GET', `/bases/${base}/rows`, baseToken, undefined, serviceUrl)).status).toBe(200);
    return { apiToken, baseToken };
  }

  /** Seconds until the service refuses the Base-Token (polling it every 100 ms). */
  async function secondsUntilRefused(baseToken: string): Promise<number> {
    const started = performance.now();
    for (;;) {
      const answer = await call('GET', `/bases/${base}/rows`, baseToken, undefined, serviceUrl);
      if (answer.status === 401) {
        expect(answer.body.error.code).toBe('token_revoked');
        return (performance.now() - started) / 1000;
      }
      expect(answer.status).toBe(200);
      if (performance.now() - started > 10_000) throw new Error('still accepted after 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('after a delete, a disable, a regenerate and a leak report', async () => {
    const deleted = await workingBaseToken('deleted');
    const disabled = await workingBaseToken('disabled');
    const regenerated = await workingBaseToken('regenerated');
    const leaked = await workingBaseToken('leaked');
    const untouched = await workingBaseToken('untouched');

    expect((await call('DELETE', `/api/v1/api-tokens/${deleted.apiToken.id}`, admin)).status).toBe(204);
    expect(
      (await call('PATCH', `/api/v1/api-tokens/${disabled.apiToken.id}`, admin, { enabled: false })).status,
    ).toBe(200);
    expect(
      (await call('POST', `/api/v1/api-tokens/${regenerated.apiToken.id}/regenerate`, admin)).status,
    ).toBe(200);
    expect(
      (await call('POST', '/api/v1/leaked-tokens', undefined, { tokens: [leaked.apiToken.token] })).status,
    ).toBe(202);

    const waits = await Promise.all(
      [deleted, disabled, regenerated, leaked].map((entry) => secondsUntilRefused(entry.baseToken)),
    );
    console.log(
      `revoked Base-Tokens refused after ${waits.map((w) => w.toFixed(2)).join(', ')} s (poll interval ${POLL_SECONDS} s)`,
    );
    for (const wait of waits) expect(wait).toBeLessThan(POLL_SECONDS + 2);
    // Nothing else was caught.
    expect(
      (await call('GET', `/bases/${base}/rows`, untouched.baseToken, undefined, serviceUrl)).status,
    ).toBe(200);
  }, 30_000);

  it('a single Base-Token revoked by its holder, while its source keeps working', async () => {
    const { apiToken, baseToken } = await workingBaseToken('holder');
    expect((await call('POST', '/api/v1/base-tokens/revoke', undefined, { token: baseToken })).status).toBe(
      200,
    );
    await secondsUntilRefused(baseToken);
    const fresh = (await call('POST', '/api/v1/base-tokens', apiToken.token)).body.base_token as string;
    expect((await call('GET', `/bases/${base}/rows`, fresh, undefined, serviceUrl)).status).toBe(200);
  }, 30_000);
});
