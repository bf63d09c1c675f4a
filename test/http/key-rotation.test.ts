import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';

const HOUR = 3600;
const TTL = 3 * 86400;

describe('signing-key rotation', () => {
  let t: TestApp;
  let admin: string;
  let apiToken: string;
  let baseUuid: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    baseUuid = await t.createBase(admin, 'Base');
    apiToken = (await t.createApiToken(admin, baseUuid, 'job', 'r')).token;
  });

  const kids = async () => (await t.api().GET('/.well-known/jwks.json')).data!.keys.map((key) => key.kid);
  const issue = async () =>
    (await t.call('POST', '/api/v1/base-tokens', { token: apiToken })).body.base_token as string;
  const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
  const verifiesNow = async (jwt: string) => {
    const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
    try {
      await jwtVerify(jwt, createLocalJWKSet(jwks), { currentDate: new Date(t.clock.now()) });
      return true;
    } catch {
      return false;
    }
  };

  it('publishes the new key first, signs with it after the delay, and drops the old one once its tokens expired', async () => {
    const [k1] = await kids();
    const before = await issue();
    expect(kidOf(before)).toBe(k1);

    const rotated = await t.api(admin).POST('/api/v1/keys/rotate', { body: {} });
    expect(rotated.response.status).toBe(201);
    expect(rotated.data).toMatchObject({ state: 'next', activated_at: '2026-11-01T13:00:00Z' });
    const k2 = rotated.data!.kid;
    expect(await kids()).toEqual([k1, k2]);
    expect(kidOf(await issue())).toBe(k1); // verifiers may not have fetched k2 yet

    t.clock.advance(HOUR - 1);
    expect(kidOf(await issue())).toBe(k1);
    t.clock.advance(1);
    const after = await issue();
    expect(kidOf(after)).toBe(k2);
    const states = (await t.api(admin).GET('/api/v1/keys')).data!.keys.map((key) => [key.kid, key.state]);
    expect(states).toEqual([
      [k1, 'retired'],
      [k2, 'current'],
    ]);

    // Tokens signed by k1 keep verifying until they expire; k1 stays published that long, then drops out.
    expect(await kids()).toEqual([k1, k2]);
    t.clock.advance(TTL - HOUR);
    expect(await verifiesNow(before)).toBe(false); // expired by now
    expect(await kids()).toEqual([k1, k2]);
    t.clock.advance(HOUR + 60);
    expect(await kids()).toEqual([k2]);
    expect(kidOf(after)).toBe(k2);
    expect(await verifiesNow(await issue())).toBe(true);
  });

  it('a reload pushed while the key ring checks its current key (PostgreSQL NOTIFY, a LISTEN reconnect) fails nothing', async () => {
    expect((await t.call('POST', '/api/v1/base-tokens', { token: apiToken })).status).toBe(201);
    for (const use of [t.deps.keys.verificationKeys, t.deps.keys.current, t.deps.keys.jwks]) {
      // Past the one-second check, the next use reads the current key from the database; the reload
      // lands while that read is in flight (found by the cluster test's database crash: a 500).
      t.clock.advance(2);
      const during = use();
      t.deps.keys.reload();
      expect(await during).toBeTruthy();
    }
    expect((await t.call('POST', '/api/v1/base-tokens', { token: apiToken })).status).toBe(201);
  });

  it('revokes a compromised key at once', async () => {
    const [k1] = await kids();
    const signedByOld = await issue();
    const rotated = await t.api(admin).POST('/api/v1/keys/rotate', { body: { revoke_old: true } });
    expect(rotated.data?.state).toBe('current');
    expect(await kids()).toEqual([rotated.data?.kid]);
    expect(await kids()).not.toContain(k1);
    expect(await verifiesNow(signedByOld)).toBe(false);
    expect(kidOf(await issue())).toBe(rotated.data?.kid);
    expect(t.raw.prepare('SELECT count(*) AS n FROM signing_keys WHERE kid = ?').get(k1)).toEqual({ n: 0 });
  });

  it('allows one pending rotation at a time, and only system admins rotate', async () => {
    expect(
      (await t.call('POST', '/api/v1/keys/rotate', { token: admin, body: { activate_after_seconds: 60 } }))
        .status,
    ).toBe(201);
    expect((await t.call('POST', '/api/v1/keys/rotate', { token: admin, body: {} })).status).toBe(409);
    const user = await t.userWithToken(admin, 'user@example.com');
    expect((await t.call('POST', '/api/v1/keys/rotate', { token: user.token, body: {} })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/keys', { token: user.token })).status).toBe(403);
  });

  it('promotes exactly once when several processes notice the due key together', async () => {
    await t.call('POST', '/api/v1/keys/rotate', { token: admin, body: { activate_after_seconds: 60 } });
    t.clock.advance(60);
    // Other "processes": key rings over the same database.
    const { createKeyRing } = await import('../../src/keys/signing-keys');
    const { importKek } = await import('../../src/keys/kek');
    const kek = await importKek(t.kekText);
    const rings = Array.from({ length: 5 }, () =>
      createKeyRing({
        db: t.deps.db,
        atomic: t.deps.atomic,
        audit: t.deps.audit,
        kek,
        clock: t.clock,
        retiredKeyGraceSeconds: TTL + 60,
      }),
    );
    const current = await Promise.all(rings.map((ring) => ring.current()));
    expect(new Set(current.map((key) => key.kid)).size).toBe(1);
    expect(t.raw.prepare("SELECT count(*) AS n FROM signing_keys WHERE state = 'current'").get()).toEqual({
      n: 1,
    });
  });
});
