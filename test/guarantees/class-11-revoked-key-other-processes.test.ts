import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { configureSqlite } from '../../src/store/sqlite';
import { createBaseTokenVerifier } from '../../src/verify';
import { silentLog, testApp, testConfig, type TestApp } from '../helpers/app';

/**
 * Class 11 of issue 13: after an emergency rotation (`revoke_old`) in one process, every other process
 * over the same database stops signing with the revoked key, and stops publishing it, within the bound
 * the README states (1 s), not after its 60 s key reload.
 */
const BOUND_SECONDS = 1;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A second app instance ("process B") over its own connection to A's database file, on A's clock. */
async function secondInstance(a: TestApp, file: string) {
  const raw = new Database(file);
  configureSqlite(raw);
  const deps = await createNodeDeps({
    raw,
    kek: await importKek(a.kekText),
    config: testConfig(),
    clock: a.clock,
    log: silentLog,
  });
  return { app: createApp(deps), raw };
}

async function call(
  app: ReturnType<typeof createApp>,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
) {
  const response = await app.request(path, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('class 11: an emergency key rotation is seen by other processes only after their 60 s key reload', () => {
  it(`process B stops signing with, and publishing, a key revoked in process A within ${BOUND_SECONDS} s`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenladder-class11-'));
    dirs.push(dir);
    const file = join(dir, 'tokenladder.db');
    const a = await testApp({ file });
    const admin = await a.login();
    const base = await a.createBase(admin, 'Base');
    const apiToken = (await a.createApiToken(admin, base, 'job', 'r')).token;
    const b = await secondInstance(a, file);

    const exchangeOnB = async () => {
      const answer = await call(b.app, 'POST', '/api/v1/base-tokens', apiToken);
      expect(answer.status).toBe(201);
      return answer.body.base_token as string;
    };
    const old = await exchangeOnB();
    const oldKid = decodeProtectedHeader(old).kid;

    // Emergency rotation in A.
    const rotated = await call(a.app, 'POST', '/api/v1/keys/rotate', admin, { revoke_old: true });
    expect(rotated.status).toBe(201);
    const newKid = rotated.body.kid as string;
    expect(newKid).not.toBe(oldKid);

    // Within the bound, B signs with the new key and no longer publishes the old one.
    a.clock.advance(BOUND_SECONDS);
    const fresh = await exchangeOnB();
    expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
    const jwks = (await call(b.app, 'GET', '/.well-known/jwks.json')).body;
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).not.toContain(oldKid);

    // A verifier holding B's JWKS refuses what the revoked key signed and accepts the new key's tokens.
    const verifier = createBaseTokenVerifier({
      issuer: 'http://tokenladder.test',
      jwks,
      currentDate: () => new Date(a.clock.now()),
      cache: false,
    });
    await expect(verifier.verify(old, { baseUuid: base })).rejects.toMatchObject({ name: 'BaseTokenError' });
    await expect(verifier.verify(fresh, { baseUuid: base })).resolves.toMatchObject({ base_uuid: base });

    // B no longer accepts the revoked key for what it verifies itself (revoking a Base-Token by jti
    // needs a token B can verify: the old one is ignored, so nothing is written to the feed).
    await call(b.app, 'POST', '/api/v1/base-tokens/revoke', undefined, { token: old });
    expect((await call(a.app, 'GET', '/api/v1/revocations')).body.revocations).toEqual([]);
    b.raw.close();
    a.raw.close();
  });
});
