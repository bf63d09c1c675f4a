import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, testApp, type TestApp, type TestStore } from '../helpers/app';
import { hasPostgres } from '../helpers/postgres';
import { checkErrorCases, revokeAndCheck, verifyBaseToken, walkChain, type Target } from '../scenarios/chain';

const STORES: TestStore[] = ['sqlite', ...((await hasPostgres()) ? (['postgres'] as const) : [])];

/**
 * The shared scenario (test/scenarios/chain.ts) on createApp over SQLite and over PostgreSQL;
 * test/workers runs it in workerd on D1.
 */
describe.each(STORES)('the shared chain scenario on Node (%s)', (store) => {
  const opened: TestApp[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });

  const nodeTarget = async () => {
    const t = await testApp({ config: { issuer: 'http://tokenladder.test' }, store });
    opened.push(t);
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
    await checkErrorCases(target, chain, () => t.digest());
    await revokeAndCheck(target, chain);
  });

  it('verifies against the service clock: the Base-Token is refused after its lifetime', async () => {
    const { t, target } = await nodeTarget();
    const chain = await walkChain(target);
    t.clock.advance(3 * 86400 + 1);
    await expect(verifyBaseToken(target, chain.baseToken, chain.baseUuid)).rejects.toThrow(/"exp" claim/);
  });
});
