import { afterEach, describe, expect, it } from 'vitest';
import { createBaseTokenVerifier } from '../../src/verify';
import {
  BASE_A,
  BASE_B,
  ISSUER,
  NOW,
  claims,
  createTestKey,
  jwksOf,
  sign,
  startJwksServer,
  type JwksServer,
} from './helpers';

const key = await createTestKey();
const attacker = await createTestKey();
let server: JwksServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A verifier that refetches the JWKS on every full verification (cacheMaxAge 0), so JWKS hits count full verifications. */
async function counted(now: () => Date, cache?: { maxAgeSeconds?: number; maxEntries?: number } | false) {
  server = await startJwksServer(jwksOf(key));
  const verifier = createBaseTokenVerifier({
    issuer: ISSUER,
    jwksUrl: server.url,
    jwksOptions: { cacheMaxAge: 0, cooldownDuration: 0 },
    currentDate: now,
    cache,
  });
  return { verifier, fullVerifications: () => server!.hits() };
}

describe('the verified-token cache', () => {
  it('verifies a repeated token once, and every time when the cache is off', async () => {
    const token = await sign(key);
    const cached = await counted(() => NOW);
    for (let i = 0; i < 5; i++)
      expect((await cached.verifier.verify(token, { baseUuid: BASE_A })).jti).toBe('jti-1');
    expect(cached.fullVerifications()).toBe(1);
    await server!.close();
    const uncached = await counted(() => NOW, false);
    for (let i = 0; i < 3; i++) await uncached.verifier.verify(token, { baseUuid: BASE_A });
    expect(uncached.fullVerifications()).toBe(3);
  });

  it('serves a hit only for the exact string that was verified: another token with the same jti is verified in full', async () => {
    const { verifier } = await counted(() => NOW);
    const genuine = await sign(key);
    await verifier.verify(genuine, { baseUuid: BASE_A });
    // Same kid and jti, more permission, signed by someone else.
    const forged = await sign(attacker, {
      header: { kid: key.kid },
      claims: claims({ permission: 'admin' }),
    });
    await expect(verifier.verify(forged, { baseUuid: BASE_A })).rejects.toMatchObject({
      code: 'token_signature_invalid',
    });
    expect((await verifier.verify(genuine, { baseUuid: BASE_A })).permission).toBe('rw');
  });

  it('still checks the audience of every call', async () => {
    const { verifier } = await counted(() => NOW);
    const token = await sign(key);
    await verifier.verify(token, { baseUuid: BASE_A });
    await expect(verifier.verify(token, { baseUuid: BASE_B })).rejects.toMatchObject({
      code: 'token_audience_mismatch',
    });
  });

  it("forgets a verification at the token's expiry and after its maximum age", async () => {
    let now = NOW;
    const { verifier, fullVerifications } = await counted(() => now, { maxAgeSeconds: 60 });
    const shortLived = await sign(key, { claims: claims({ exp: Math.floor(NOW.getTime() / 1000) + 100 }) });
    await verifier.verify(shortLived, { baseUuid: BASE_A });
    now = new Date(NOW.getTime() + 59_000);
    await verifier.verify(shortLived, { baseUuid: BASE_A });
    expect(fullVerifications()).toBe(1);
    now = new Date(NOW.getTime() + 61_000);
    await verifier.verify(shortLived, { baseUuid: BASE_A });
    expect(fullVerifications()).toBe(2);
    now = new Date(NOW.getTime() + 131_000); // exp + 30 s tolerance has passed
    await expect(verifier.verify(shortLived, { baseUuid: BASE_A })).rejects.toMatchObject({
      code: 'token_expired',
    });
  });

  it('keeps at most maxEntries verifications', async () => {
    const { verifier, fullVerifications } = await counted(() => NOW, { maxEntries: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map((jti) => sign(key, { claims: claims({ jti }) })));
    for (const token of tokens) await verifier.verify(token, { baseUuid: BASE_A });
    await verifier.verify(tokens[2]!, { baseUuid: BASE_A });
    expect(fullVerifications()).toBe(3);
    await verifier.verify(tokens[0]!, { baseUuid: BASE_A }); // evicted: the least recently used
    expect(fullVerifications()).toBe(4);
  });
});
