// Key generation inside workerd for the non-default algorithms: a Worker configured with
// TOKENLADDER_SIGNING_ALG=ES256 makes its first key on P-256, then rotates at once to RSA 2048; the
// Base-Tokens of each verify with @tokenladder/verify against the Worker's JWKS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBaseTokenVerifier } from '../../src/verify';
import { call, type Target } from '../scenarios/chain';
import { applyMigrationsWithWrangler, startWorkerd } from './harness';

describe('signing algorithms inside workerd (D1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-workerd-algs-'));
  let run: Awaited<ReturnType<typeof startWorkerd>>;
  let target: Target;
  let admin: string;
  let base: string;
  let apiToken: string;

  beforeAll(async () => {
    await applyMigrationsWithWrangler(dir);
    run = await startWorkerd(dir, [{ name: 'tokenladder', env: { TOKENLADDER_SIGNING_ALG: 'ES256' } }]);
    target = run.target();
    admin = (await call(target, 'POST', '/api/v1/account-tokens', { body: target.admin })).body.token;
    base = (await call(target, 'POST', '/api/v1/bases', { token: admin, body: { name: 'Algorithms' } })).body
      .uuid;
    apiToken = (
      await call(target, 'POST', `/api/v1/bases/${base}/api-tokens`, {
        token: admin,
        body: { name: 'job', permission: 'r' },
      })
    ).body.token;
  }, 60_000);
  afterAll(async () => {
    await run?.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A Base-Token of the Worker, checked by @tokenladder/verify against the JWKS the Worker serves now. */
  async function exchangeAndVerify(alg: string) {
    const exchange = await call(target, 'POST', '/api/v1/base-tokens', { token: apiToken });
    expect(exchange.status).toBe(201);
    const jwt: string = exchange.body.base_token;
    expect(decodeProtectedHeader(jwt).alg).toBe(alg);
    const jwks = (await call(target, 'GET', '/.well-known/jwks.json')).body as JSONWebKeySet;
    const verifier = createBaseTokenVerifier({ issuer: target.origin, jwks });
    await expect(verifier.verify(jwt, { baseUuid: base })).resolves.toMatchObject({ base_uuid: base });
    return jwks;
  }

  it('makes the first key on P-256 and signs ES256 Base-Tokens', async () => {
    const jwks = await exchangeAndVerify('ES256');
    expect(jwks.keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: expect.any(String),
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    expect((await call(target, 'GET', '/api/v1/server-info')).body.base_token.algorithm).toBe('ES256');
  });

  it('generates an RSA 2048 key on rotation (revoke_old) and signs RS256 Base-Tokens with it', async () => {
    const rotated = await call(target, 'POST', '/api/v1/keys/rotate', {
      token: admin,
      body: { alg: 'RS256', revoke_old: true },
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ alg: 'RS256', state: 'current' });
    const jwks = await exchangeAndVerify('RS256');
    expect(jwks.keys).toEqual([
      { kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: rotated.body.kid, alg: 'RS256', use: 'sig' },
    ]);
  });
});
