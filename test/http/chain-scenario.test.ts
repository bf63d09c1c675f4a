import { describe, expect, it } from 'vitest';
import { ADMIN, testApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { checkErrorCases, revokeAndCheck, verifyBaseToken, walkChain, type Target } from '../scenarios/chain';

/** The shared scenario (test/scenarios/chain.ts) on createApp over SQLite; test/workers runs it in workerd on D1. */
describe('the shared chain scenario on Node', () => {
  const nodeTarget = async () => {
    const t = await testApp({ config: { issuer: 'http://tokenladder.test' } });
    const target: Target = {
      fetch: async (request) => t.app.fetch(request),
      origin: 'http://tokenladder.test',
      admin: ADMIN,
      now: () => new Date(t.clock.now()),
    };
    return { t, target };
  };

  it('walks the chain, verifies the Base-Token with jose, answers the error table without writing, and revokes at once', async () => {
    const { t, target } = await nodeTarget();
    const chain = await walkChain(target);
    await checkErrorCases(target, chain, async () => dbDigest(t.raw));
    await revokeAndCheck(target, chain);
  });

  it('verifies against the service clock: the Base-Token is refused after its lifetime', async () => {
    const { t, target } = await nodeTarget();
    const chain = await walkChain(target);
    t.clock.advance(3 * 86400 + 1);
    await expect(verifyBaseToken(target, chain.baseToken, chain.baseUuid)).rejects.toThrow(/"exp" claim/);
  });
});
