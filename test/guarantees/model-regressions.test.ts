import { describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app';
import { feedVerifier } from '../helpers/feed-verifier';

// Counterexamples the model test (model.test.ts, model-processes.test.ts) found, each kept as a named
// test of what it shows. A known defect not fixed yet is an `it.fails`: it passes while the defect is
// there and fails once it is fixed (then make it a plain `it`).

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

/** Resolves after `n` turns of the microtask queue: a request started now has run that far. */
const microtasks = (n: number) =>
  new Promise<void>((resolve) => {
    let left = n;
    const tick = () => (left-- > 0 ? queueMicrotask(tick) : resolve());
    tick();
  });

describe('model regressions', () => {
  // Found while writing the model's race rule (model/commands.ts, Race) and confirmed in the two-process
  // setting: racing an Account-Token exchange in one process against a demotion of its user in the
  // other, 2 of 300 exchanges answered 201 with the lower permission (they read the demotion) and a
  // synced verifier refused that Base-Token at once. An Account-Token exchange reads the feed position
  // (`gen`) with the Account-Token (authenticateAccountToken) and the membership in a later statement
  // (memberBase): a demotion that commits between the two gives a Base-Token with the lower permission
  // and a `gen` below the demotion's feed entry. Safe (nothing is granted that should not be), but the
  // caller's fresh Base-Token is refused on arrival. Here in one process, deterministically: the exchange
  // starts k microtask turns after the demotion, for every k up to 80, so some k lands between the two
  // reads (k = 31…43 when this was written). The model test allows this one case (REFUSED_ON_ARRIVAL).
  it.fails('KNOWN DEFECT: an Account-Token exchange that reads a concurrent demotion is refused on arrival (it carries the feed position from before it)', async () => {
    const t = await testApp();
    const admin = await t.login();
    const alice = await t.userWithToken(admin, 'alice@example.com');
    const bob = await t.userWithToken(admin, 'bob@example.com');
    const base = await t.createBase(alice.token, 'Base');
    const verifier = feedVerifier(t);
    const member = (permission: string) =>
      t.call('PUT', `/api/v1/bases/${base}/members/${bob.id}`, { token: alice.token, body: { permission } });
    const seen = new Set<string>();
    for (let k = 0; k < 80; k++) {
      expect((await member('rw')).status).toBe(200);
      const demotion = member('r');
      await microtasks(k);
      const exchanged = await t.call('POST', '/api/v1/base-tokens', {
        token: bob.token,
        body: { base_uuid: base },
      });
      expect((await demotion).status).toBe(200);
      expect(exchanged.status).toBe(201);
      const jwt = exchanged.body.base_token as string;
      const permission = claimsOf(jwt).permission as string;
      const verdict = await verifier.checkSynced(jwt, base);
      seen.add(`${permission} ${verdict}`);
      // Read before the demotion (rw): ended by it. Read after it (r): a Base-Token of what is left.
      expect(verdict, `exchange ${k} microtasks after the demotion: ${permission}`).toBe(
        permission === 'rw' ? 'token_revoked' : 'accepted',
      );
    }
    // Both orders happened: the scan reaches both sides of the demotion.
    expect([...seen].sort()).toEqual(['r accepted', 'rw token_revoked']);
  });
});
