import { decodeJwt } from 'jose';
import { createBaseTokenVerifier, createRevocationList } from '../../src/verify';
import type { TestApp } from './app';

/**
 * The real downstream verifier for a test app's Base-Tokens: its revocation list reads the feed through
 * `app.request`, on the app's clock. Nothing syncs on its own: call `revocations.sync()` where the
 * test means a verifier that has polled.
 */
export function feedVerifier(t: TestApp) {
  const revocations = createRevocationList({
    url: 'http://tokenladder.test/api/v1/revocations',
    fetch: async (input, init) => t.app.request(String(input).replace('http://tokenladder.test', ''), init),
    currentDate: () => new Date(t.clock.now()),
  });
  /** `'accepted'`, or the refusal's code. Without `audience`, the token's own `aud` is asked for. */
  async function check(jwt: string, baseUuid?: string): Promise<string> {
    const verifier = createBaseTokenVerifier({
      issuer: 'http://tokenladder.test',
      jwks: await t.deps.keys.jwks(),
      currentDate: () => new Date(t.clock.now()),
      revocations,
      cache: false,
    });
    const audience = baseUuid === undefined ? String(decodeJwt(jwt).aud) : undefined;
    try {
      await verifier.verify(jwt, audience === undefined ? { baseUuid } : { audience });
      return 'accepted';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }
  return {
    revocations,
    check,
    /** As `check`, after a poll: a verifier that has read every change made so far. */
    checkSynced: async (jwt: string, baseUuid?: string) => {
      await revocations.sync();
      return check(jwt, baseUuid);
    },
    accepts: async (jwt: string, baseUuid?: string) => (await check(jwt, baseUuid)) === 'accepted',
  };
}
