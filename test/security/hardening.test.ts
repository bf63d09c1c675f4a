// Catalog cases for the hardening features of issue 6 (revocation feed, audit log, token cap,
// password change races). Deeper tests: test/http/revocations.test.ts, test/http/audit.test.ts,
// test/e2e/revocation.e2e.test.ts (the bound against real processes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCOUNT_TOKENS_PER_USER } from '../../src/accounts/account-tokens';
import { createBaseTokenVerifier, createRevocationList } from '../../src/verify';
import { ON_SQLITE, PASSWORD } from '../helpers/app';
import { expectErrorBody, expectRejected, world, type World } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'tl-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A verifier of the world's Base-Tokens reading the feed through app.request. */
async function feedVerifier(w: World) {
  const revocations = createRevocationList({
    url: 'http://tokenladder.test/api/v1/revocations',
    fetch: async (input, init) => w.t.app.request(String(input).replace('http://tokenladder.test', ''), init),
    currentDate: () => new Date(w.t.clock.now()),
  });
  const verifier = createBaseTokenVerifier({
    issuer: 'http://tokenladder.test',
    jwks: await w.t.deps.keys.jwks(),
    currentDate: () => new Date(w.t.clock.now()),
    revocations,
  });
  return { revocations, verifier };
}

describe('revocation', () => {
  const causes: { name: string; revoke: (w: World, token: { id: string }) => Promise<unknown> }[] = [
    {
      name: 'deleted',
      revoke: (w, token) => w.t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: w.alice.token }),
    },
    {
      name: 'disabled',
      revoke: (w, token) =>
        w.t.call('PATCH', `/api/v1/api-tokens/${token.id}`, {
          token: w.alice.token,
          body: { enabled: false },
        }),
    },
    {
      name: 'regenerated',
      revoke: (w, token) =>
        w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: w.alice.token }),
    },
    {
      name: 'downgraded',
      revoke: (w, token) =>
        w.t.call('PATCH', `/api/v1/api-tokens/${token.id}`, {
          token: w.alice.token,
          body: { permission: 'r' },
        }),
    },
    {
      name: 'creator deactivated',
      revoke: (w) =>
        w.t.call('PATCH', `/api/v1/users/${w.alice.id}`, {
          token: w.admin.token,
          body: { is_active: false },
        }),
    },
    {
      name: 'creator revoked by an admin',
      revoke: (w) => w.t.call('POST', `/api/v1/users/${w.alice.id}/revoke-tokens`, { token: w.admin.token }),
    },
  ];
  it.each(causes)(
    'J-31 a Base-Token whose API-Token was $name is refused (token_revoked) after the next feed poll',
    async ({ revoke }) => {
      const w = await world();
      const { revocations, verifier } = await feedVerifier(w);
      await revocations.sync();
      const token = w.tokens.aliceRw;
      await expect(verifier.verify(w.baseTokenA, { baseUuid: w.baseA })).resolves.toMatchObject({
        client_id: token.id,
      });
      await revoke(w, token);
      await revocations.sync();
      await expect(verifier.verify(w.baseTokenA, { baseUuid: w.baseA })).rejects.toMatchObject({
        code: 'token_revoked',
      });
    },
  );

  it('P-16 the feed, when made private, refuses a missing or wrong verifier credential; it never holds a secret', async () => {
    const w = await world({ revocationFeedToken: 'verifier-credential-0123456789abcdef' });
    await w.t.call('DELETE', `/api/v1/api-tokens/${w.tokens.bobR.id}`, { token: w.bob.token });
    for (const authorization of [undefined, 'Bearer nope', `Bearer ${w.tokens.aliceRw.token}`]) {
      await expectRejected(
        w.t,
        () => w.t.call('GET', '/api/v1/revocations', { headers: authorization ? { authorization } : {} }),
        401,
        'missing_credentials',
      );
    }
    const feed = await w.t.call('GET', '/api/v1/revocations', {
      headers: { authorization: 'Bearer verifier-credential-0123456789abcdef' },
    });
    expect(feed.status).toBe(200);
    expect(JSON.stringify(feed.body)).not.toMatch(/tl_(acc|api)_|eyJ/);
  });
});

describe('audit log', () => {
  it('P-15 reads are confined: own records, administered bases, everything only for system admins', async () => {
    const w = await world();
    const visible = async (token: string) =>
      (await w.t.call('GET', '/api/v1/audit?limit=200', { token })).body.events as {
        subject_user_id: string | null;
        actor: { user_id: string | null };
        base_uuid: string | null;
      }[];
    const aliceBases = [w.baseA, w.baseB];
    for (const event of await visible(w.bob.token)) {
      expect(event.subject_user_id === w.bob.id || event.actor.user_id === w.bob.id).toBe(true);
    }
    for (const event of await visible(w.alice.token)) {
      expect(
        event.subject_user_id === w.alice.id ||
          event.actor.user_id === w.alice.id ||
          aliceBases.includes(event.base_uuid!),
      ).toBe(true);
    }
    // A team admin is no base admin: Tara's base stays out of Tina's and Tess's views.
    for (const viewer of [w.tina, w.tess, w.carol])
      expect((await visible(viewer.token)).some((event) => event.base_uuid === w.taraBase)).toBe(false);
    const all = await visible(w.admin.token);
    expect(all.some((event) => event.base_uuid === w.taraBase)).toBe(true);
    await expectRejected(
      w.t,
      () => w.t.call('GET', '/api/v1/audit/verify', { token: w.tina.token }),
      403,
      'insufficient_permission',
    );
    await expectRejected(w.t, () => w.t.call('GET', '/api/v1/audit'), 401, 'missing_credentials');
  });

  it.runIf(ON_SQLITE)(
    'F-09 an audit write that fails rolls the whole action back: 500, no token created, no Base-Token handed out',
    async () => {
      const w = await world();
      w.t.raw.exec(
        "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END",
      );
      const count = () => w.t.raw.prepare('SELECT count(*) AS n FROM api_tokens').get();
      const before = count();
      expectErrorBody(
        await w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
          token: w.alice.token,
          body: { name: 'f09', permission: 'r' },
        }),
        500,
        'internal_error',
      );
      expect(count()).toEqual(before);
      const exchanged = await w.t.call('POST', '/api/v1/base-tokens', { token: w.tokens.aliceRw.token });
      expectErrorBody(exchanged, 500, 'internal_error');
      expectErrorBody(
        await w.t.call('DELETE', `/api/v1/api-tokens/${w.tokens.aliceRw.id}`, { token: w.alice.token }),
        500,
        'internal_error',
      );
      w.t.raw.exec('DROP TRIGGER audit_fails');
      expect((await w.t.call('POST', '/api/v1/base-tokens', { token: w.tokens.aliceRw.token })).status).toBe(
        201,
      );
    },
  );
});

describe('credentials', () => {
  it.runIf(ON_SQLITE)(
    'O-18 a sign-in flood cannot pile up Account-Tokens: beyond the cap the least recently used are revoked',
    async () => {
      const w = await world();
      const first = w.carol.token;
      let latest = first;
      for (let i = 0; i < ACCOUNT_TOKENS_PER_USER + 5; i++) {
        w.t.clock.advance(1);
        latest = await w.t.login('carol@example.com', PASSWORD);
      }
      const live = w.t.raw
        .prepare('SELECT count(*) AS n FROM account_tokens WHERE user_id = ? AND revoked_at IS NULL')
        .get(w.carol.id);
      expect(live).toEqual({ n: ACCOUNT_TOKENS_PER_USER });
      expectErrorBody(await w.t.call('GET', '/api/v1/me', { token: first }), 401, 'token_revoked');
      const evicted = (
        await w.t.call('GET', '/api/v1/audit?action=account_token.revoke&limit=200', { token: latest })
      ).body.events;
      expect(evicted).toHaveLength(6);
    },
    30_000,
  );

  it('R-09 a password change racing a sign-in with the old password: afterwards the old password fails and other tokens are revoked', async () => {
    const w = await world({}, join(dir, 'r09.sqlite'));
    const other = await w.t.login('bob@example.com', PASSWORD);
    const newPassword = 'a brand new passphrase for bob';
    const [changed, oldSignIn] = await Promise.all([
      w.t.call('POST', '/api/v1/me/password', {
        token: w.bob.token,
        body: { current_password: PASSWORD, new_password: newPassword },
      }),
      w.t.call('POST', '/api/v1/account-tokens', { body: { email: 'bob@example.com', password: PASSWORD } }),
    ]);
    expect(changed.status).toBe(200);
    // The racing sign-in either lost (401) or won before the change: then its token is among those revoked.
    if (oldSignIn.status === 201)
      expect((await w.t.call('GET', '/api/v1/me', { token: oldSignIn.body.token })).status).toBe(401);
    else expect(oldSignIn.status).toBe(401);
    expect(
      (
        await w.t.call('POST', '/api/v1/account-tokens', {
          body: { email: 'bob@example.com', password: PASSWORD },
        })
      ).status,
    ).toBe(401);
    expect((await w.t.call('GET', '/api/v1/me', { token: other })).status).toBe(401);
    expect((await w.t.call('GET', '/api/v1/me', { token: w.bob.token })).status).toBe(200);
  });
});
