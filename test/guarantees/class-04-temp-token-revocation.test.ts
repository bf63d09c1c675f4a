import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { feedVerifier } from '../helpers/feed-verifier';

// Issue 13, class 4: a temporary API-Token (SeaTable's temp-api-token) that is revoked (by its jti,
// reported leaked, or with the Account-Token that made it) ends the Base-Tokens it was exchanged for at
// every verifier reading the feed; and it stops exchanging once its Account-Token is past the maximum age.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function seatable(t: TestApp, path: string, credential: string) {
  const response = await t.app.request(path, { headers: { authorization: `Token ${credential}` } });
  return { status: response.status, body: await response.json() };
}

async function setup(t: TestApp) {
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  const workspace = (await t.call('GET', '/api/v1/workspaces', { token: alice.token })).body.workspaces[0]
    .id as string;
  const tempPath = `/api/v2.1/workspace/${workspace}/dtable/Projects/temp-api-token/`;
  const mintTemp = async (session: string) => {
    const minted = await seatable(t, tempPath, session);
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    return minted.body.api_token as string;
  };
  const baseTokenOf = async (temp: string) => {
    const exchanged = await seatable(t, '/api/v2.1/dtable/app-access-token/', temp);
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    return exchanged.body.access_token as string;
  };
  const direct = async (session: string) => {
    const exchanged = await t.call('POST', '/api/v1/base-tokens', {
      token: session,
      body: { base_uuid: base },
    });
    expect(exchanged.status).toBe(201);
    return exchanged.body.base_token as string;
  };
  return {
    admin,
    alice,
    base,
    mintTemp,
    baseTokenOf,
    direct,
    verifier: { check: feedVerifier(t).checkSynced },
  };
}

describe('class 04: A leaked or revoked temporary API-Token (SeaTable) leaves its Base-Tokens alive', () => {
  it.each([
    ['revoked by its jti', 'POST', '/api/v1/base-tokens/revoke'],
    ['reported leaked', 'POST', '/api/v1/leaked-tokens'],
  ])('ends its Base-Tokens at verifiers once %s, and nothing else', async (_how, method, path) => {
    const t = await testApp();
    const { alice, base, mintTemp, baseTokenOf, direct, verifier } = await setup(t);
    const revoked = await mintTemp(alice.token);
    const kept = await mintTemp(alice.token);
    const fromRevoked = await baseTokenOf(revoked);
    const fromKept = await baseTokenOf(kept);
    const fromSession = await direct(alice.token);
    for (const jwt of [fromRevoked, fromKept, fromSession])
      expect(await verifier.check(jwt, base)).toBe('accepted');

    t.clock.advance(1);
    const body = path.endsWith('revoke') ? { token: revoked } : { tokens: [revoked] };
    const answer = await t.call(method, path, { body });
    expect(answer.status).toBeLessThan(300);

    expect(await verifier.check(fromRevoked, base)).toBe('token_revoked');
    // The same Account-Token's other temporary token and its own Base-Tokens are untouched.
    expect(await verifier.check(fromKept, base)).toBe('accepted');
    expect(await verifier.check(fromSession, base)).toBe('accepted');
    expect((await seatable(t, '/api/v2.1/dtable/app-access-token/', revoked)).status).toBe(401);
    expect(await verifier.check(await baseTokenOf(kept), base)).toBe('accepted');
  });

  it.each([
    ['signed out', 'accepted'],
    ['password changed', 'accepted'],
    ['all of the user’s tokens revoked', 'token_revoked'],
    ['deactivated', 'token_revoked'],
  ])(
    'ends its Base-Tokens at verifiers once the Account-Token that made it is revoked (%s)',
    async (how, otherSession) => {
      const t = await testApp();
      const { admin, alice, base, mintTemp, baseTokenOf, verifier } = await setup(t);
      const session = await t.login('alice@example.com', PASSWORD);
      // Two temporary tokens of that Account-Token, one of another (alice.token, kept where it can be).
      const jwts = [await baseTokenOf(await mintTemp(session)), await baseTokenOf(await mintTemp(session))];
      const other = await baseTokenOf(await mintTemp(alice.token));
      for (const jwt of [...jwts, other]) expect(await verifier.check(jwt, base)).toBe('accepted');
      t.clock.advance(1);
      if (how === 'signed out') {
        const me = (await t.call('GET', '/api/v1/me', { token: session })).body;
        const out = await t.call('DELETE', `/api/v1/account-tokens/${me.account_token_id}`, {
          token: session,
        });
        expect(out.status).toBe(204);
      } else if (how === 'password changed') {
        const changed = await t.call('POST', '/api/v1/me/password', {
          token: alice.token,
          body: { current_password: PASSWORD, new_password: 'another perfectly fine passphrase' },
        });
        expect(changed.status, JSON.stringify(changed.body)).toBeLessThan(300);
      } else if (how === 'deactivated') {
        const off = await t.call('PATCH', `/api/v1/users/${alice.id}`, {
          token: admin,
          body: { is_active: false },
        });
        expect(off.status, JSON.stringify(off.body)).toBe(200);
      } else {
        const all = await t.call('POST', `/api/v1/users/${alice.id}/revoke-tokens`, { token: admin });
        expect(all.status, JSON.stringify(all.body)).toBeLessThan(300);
      }
      for (const jwt of jwts) expect(await verifier.check(jwt, base)).toBe('token_revoked');
      expect(await verifier.check(other, base)).toBe(otherSession);
    },
  );

  it("ends its Base-Tokens when its maker is deactivated just after its hour, while a verifier's clock tolerance still accepts them", async () => {
    const t = await testApp();
    const { admin, alice, base, mintTemp, baseTokenOf, verifier } = await setup(t);
    const jwt = await baseTokenOf(await mintTemp(alice.token));
    // 5 s past the temporary token's hour (and the Base-Token's exp): within the verifier's 30 s.
    t.clock.advance(3600 + 5);
    expect(await verifier.check(jwt, base)).toBe('accepted');
    const off = await t.call('PATCH', `/api/v1/users/${alice.id}`, {
      token: admin,
      body: { is_active: false },
    });
    expect(off.status).toBe(200);
    expect(await verifier.check(jwt, base)).toBe('token_revoked');
  });

  it('stops exchanging once the Account-Token that made it is past the maximum age, changing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-class04-'));
    dirs.push(dir);
    const file = join(dir, 'tokenladder.db');
    const first = await testApp({ file });
    // A second instance on the same database, configured with a maximum age (or restarted with one).
    const second = await testApp({
      file,
      kekText: first.kekText,
      config: { accountTokenMaxAgeSeconds: 7200 },
    });
    const advance = (seconds: number) => {
      first.clock.advance(seconds);
      second.clock.advance(seconds);
    };
    const { alice, mintTemp } = await setup(first);
    advance(7200 - 600);
    const temp = await mintTemp(alice.token);
    expect((await seatable(second, '/api/v2.1/dtable/app-access-token/', temp)).status).toBe(200);
    advance(600);
    // The Account-Token itself is refused there now…
    expect((await second.call('GET', '/api/v1/me', { token: alice.token })).body.error.code).toBe(
      'token_expired',
    );
    // …and so is the temporary token it made, which has 50 minutes left.
    const before = dbDigest(second.raw);
    const refused = await seatable(second, '/api/v2.1/dtable/app-access-token/', temp);
    expect(refused.status).toBe(401);
    expect(dbDigest(second.raw)).toBe(before);
  });
});
