import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest';
import { customFetch, type FetchImplementation } from 'jose';
import {
  BaseTokenError,
  REMOTE_JWKS_DEFAULTS,
  createBaseTokenVerifier,
  type BaseTokenErrorCode,
  type BaseTokenVerifier,
  type BaseTokenVerifierOptions,
} from '../../src/verify';
import {
  BASE_A,
  ISSUER,
  NOW,
  createTestKey,
  jwksOf,
  rejection,
  sign,
  startJwksServer,
  type JwksServer,
} from './helpers';

const key = await createTestKey();
const nextKey = await createTestKey();

let server: JwksServer;
let extraServers: JwksServer[] = [];

beforeEach(async () => {
  server = await startJwksServer(jwksOf(key));
  // jose's remote-JWKS cache and cooldown read Date.now(); fake only Date to move time without sleeping.
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all([server, ...extraServers].map((s) => s.close()));
  extraServers = [];
});

const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

function remoteVerifier(overrides: Partial<BaseTokenVerifierOptions> = {}): BaseTokenVerifier {
  // These tests are about JWKS fetching: every call goes to the key set (no verified-token cache).
  return createBaseTokenVerifier({
    issuer: ISSUER,
    jwksUrl: server.url,
    currentDate: () => NOW,
    cache: false,
    ...overrides,
  });
}

const verifyA = (v: BaseTokenVerifier, token: string) => v.verify(token, { baseUuid: BASE_A });

async function expectCode(v: BaseTokenVerifier, token: string, code: BaseTokenErrorCode) {
  const error = await rejection(verifyA(v, token));
  expect(error).toBeInstanceOf(BaseTokenError);
  expect((error as BaseTokenError).code).toBe(code);
  expect((error as BaseTokenError).status).toBe(code === 'jwks_unavailable' ? 503 : 401);
}

describe('remote JWKS', () => {
  it('uses the 5d defaults: cache 300 s, cooldown 30 s, timeout 5 s', () => {
    expect(REMOTE_JWKS_DEFAULTS).toEqual({
      cacheMaxAge: 300_000,
      cooldownDuration: 30_000,
      timeoutDuration: 5_000,
    });
  });

  it('fetches once, then serves from cache until cacheMaxAge (300 s) has passed', async () => {
    const v = remoteVerifier();
    const token = await sign(key);
    await verifyA(v, token);
    await verifyA(v, token);
    expect(server.hits()).toBe(1);
    advance(299_000);
    await verifyA(v, token);
    expect(server.hits()).toBe(1);
    advance(2_000);
    await verifyA(v, token);
    expect(server.hits()).toBe(2);
  });

  it('J-06 unknown kids cause at most one refetch per 30 s cooldown', async () => {
    const v = remoteVerifier();
    await verifyA(v, await sign(key));
    const unknown = await sign(nextKey);
    for (let i = 0; i < 20; i++) await expectCode(v, unknown, 'token_key_unknown');
    expect(server.hits()).toBe(1);
    advance(31_000);
    for (let i = 0; i < 20; i++) await expectCode(v, unknown, 'token_key_unknown');
    expect(server.hits()).toBe(2);
  });

  it('an unknown kid on a cold cache costs exactly one fetch', async () => {
    const v = remoteVerifier();
    const unknown = await sign(nextKey);
    for (let i = 0; i < 5; i++) await expectCode(v, unknown, 'token_key_unknown');
    expect(server.hits()).toBe(1);
  });

  it('a newly published key is picked up by the unknown-kid refetch once the cooldown has passed', async () => {
    const v = remoteVerifier();
    await verifyA(v, await sign(key));
    server.setJwks(jwksOf(key, nextKey));
    const rotated = await sign(nextKey);
    await expectCode(v, rotated, 'token_key_unknown'); // early switch inside the cooldown: 401
    advance(31_000);
    await expect(verifyA(v, rotated)).resolves.toMatchObject({ sub: 'user-1' });
    expect(server.hits()).toBe(2);
  });

  it('J-10 jku/x5u/x5c headers are never fetched; only the pinned JWKS URL is', async () => {
    const attacker = await startJwksServer(jwksOf(nextKey));
    extraServers.push(attacker);
    const fetched: string[] = [];
    const spy: FetchImplementation = (url, init) => {
      fetched.push(url);
      return fetch(url, init);
    };
    const v = remoteVerifier({ jwksOptions: { [customFetch]: spy } });
    for (const header of [{ jku: attacker.url }, { x5u: attacker.url }, { x5c: ['MIIB'] }]) {
      await expectCode(v, await sign(nextKey, { header: { ...header, kid: key.kid } }), 'token_malformed');
      await expectCode(v, await sign(key, { header }), 'token_malformed');
    }
    await expectCode(v, await sign(nextKey, { header: { kid: key.kid } }), 'token_signature_invalid');
    expect(attacker.hits()).toBe(0);
    expect(fetched).toEqual([server.url]);
  });

  it('J-28 an oversize token never reaches the key source', async () => {
    const v = remoteVerifier();
    await expectCode(v, 'a'.repeat(5000), 'token_malformed');
    expect(server.hits()).toBe(0);
  });
});

describe('JWKS outages fail closed with 503 jwks_unavailable', () => {
  it('server down (connection refused)', async () => {
    const v = remoteVerifier();
    await server.close();
    await expectCode(v, await sign(key), 'jwks_unavailable');
  });

  it('HTTP 500', async () => {
    server.setMode('error');
    await expectCode(remoteVerifier(), await sign(key), 'jwks_unavailable');
  });

  it('timeout', async () => {
    server.setMode('hang');
    await expectCode(
      remoteVerifier({ jwksOptions: { timeoutDuration: 50 } }),
      await sign(key),
      'jwks_unavailable',
    );
  });

  it('invalid JWKS document', async () => {
    server.setJwks({ keys: 'nope' } as never);
    await expectCode(remoteVerifier(), await sign(key), 'jwks_unavailable');
  });

  it('a fresh cache keeps working during an outage; a stale one does not', async () => {
    const v = remoteVerifier();
    const token = await sign(key);
    await verifyA(v, token);
    server.setMode('error');
    await expect(verifyA(v, token)).resolves.toBeTruthy();
    advance(301_000);
    await expectCode(v, token, 'jwks_unavailable');
  });

  it('an unknown kid whose refetch fails is 503, not 401', async () => {
    const v = remoteVerifier();
    await verifyA(v, await sign(key));
    server.setMode('error');
    advance(31_000);
    await expectCode(v, await sign(nextKey), 'jwks_unavailable');
  });
});
