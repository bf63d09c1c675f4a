import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeJwt, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { configureSqlite } from '../../src/store/sqlite';
import { createClient, frozenClock, PASSWORD, silentLog, START, testApp, testConfig } from '../helpers/app';
import { feedVerifier } from '../helpers/feed-verifier';
import { publishOwnedRevocations } from '../../src/revocations/revoke';

/**
 * Class 2 of issue 13: the revocation time was read from the clock before the write committed, and
 * verifiers refused a source's Base-Tokens issued at or before it (`iat <= revoked_at`). An exchange
 * in another process that read the source while it was still live, and signed in a later second
 * (the revoking write still running, or that process's clock a little ahead), escaped the feed for
 * the Base-Token's whole lifetime. And the same rule refused a Base-Token exchanged in the same second
 * as its source was re-enabled.
 *
 * Now no clock is compared: the exchange reads the feed's position (`gen`) in the same statement as
 * its source and signs it into the Base-Token; every change that takes access away writes its feed
 * entry in the same write as the change, at a higher position. So a Base-Token is refused exactly
 * when its exchange read the source before the change committed.
 *
 * Two app instances over one SQLite file stand for two processes: B, where the exchange runs, has a
 * clock 2 s ahead of A, where the change runs. That is the interleaving "A reads its clock, B reads
 * the still-live source and signs, A commits": B's `iat` is later than A's `revoked_at`.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-class02-'));
  dirs.push(dir);
  const file = join(dir, 'tokenladder.db');
  const a = await testApp({ file });
  const raw = new Database(file);
  configureSqlite(raw);
  const bClock = frozenClock(START + 2000);
  const bDeps = await createNodeDeps({
    raw,
    kek: await importKek(a.kekText),
    config: testConfig(),
    clock: bClock,
    log: silentLog,
  });
  const b = createClient(createApp(bDeps));
  const admin = await a.login();
  const base = await a.createBase(admin, 'Base');
  const bob = await a.userWithToken(admin, 'bob@example.com');
  expect(
    (
      await a.call('PUT', `/api/v1/bases/${base}/members/${bob.id}`, {
        token: admin,
        body: { permission: 'rw' },
      })
    ).status,
  ).toBe(200);
  const apiToken = await a.createApiToken(bob.token, base, 'job', 'rw');
  const accountTokenId = (
    await a.call('GET', '/api/v1/account-tokens', { token: bob.token })
  ).body.account_tokens.find((token: { current: boolean }) => token.current).id as string;
  const workspace = (await a.call('GET', '/api/v1/workspaces', { token: admin })).body.workspaces[0]
    .id as string;
  // SeaTable's temporary API-Token, minted in A with Bob's Account-Token.
  const minted = await a.call('GET', `/api/v2.1/workspace/${workspace}/dtable/Base/temp-api-token/`, {
    headers: { authorization: `Token ${bob.token}` },
  });
  expect(minted.status).toBe(200);
  const tempToken = minted.body.api_token as string;
  return { a, b, admin, base, bob, apiToken, accountTokenId, tempToken, close: () => raw.close() };
}

type World = Awaited<ReturnType<typeof world>>;

/** An exchange in process B: its Base-Token, whose `iat` is 2 s after A's clock. */
async function exchangeOnB(w: World, source: 'api' | 'account' | 'temp') {
  let jwt: string;
  if (source === 'temp') {
    const answer = await w.b.call('GET', '/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${w.tempToken}` },
    });
    expect(answer.status).toBe(200);
    jwt = answer.body.access_token;
  } else {
    const answer = await w.b.call('POST', '/api/v1/base-tokens', {
      token: source === 'api' ? w.apiToken.token : w.bob.token,
      body: { base_uuid: w.base },
    });
    expect(answer.status).toBe(201);
    jwt = answer.body.base_token;
  }
  expect(decodeJwt(jwt).iat).toBe(START / 1000 + 2);
  return jwt;
}

const changes: {
  name: string;
  /** What the Base-Token is exchanged from. */
  source: 'api' | 'account' | 'temp';
  change: (w: World) => Promise<{ status: number }>;
}[] = [
  {
    name: 'API-Token deleted',
    source: 'api',
    change: (w) => w.a.call('DELETE', `/api/v1/api-tokens/${w.apiToken.id}`, { token: w.bob.token }),
  },
  {
    name: 'API-Token bulk-deleted',
    source: 'api',
    change: (w) =>
      w.a.call('POST', '/api/v1/api-tokens/bulk-delete', {
        token: w.bob.token,
        body: { ids: [w.apiToken.id] },
      }),
  },
  {
    name: 'API-Token disabled',
    source: 'api',
    change: (w) =>
      w.a.call('PATCH', `/api/v1/api-tokens/${w.apiToken.id}`, {
        token: w.bob.token,
        body: { enabled: false },
      }),
  },
  {
    name: 'API-Token regenerated',
    source: 'api',
    change: (w) =>
      w.a.call('POST', `/api/v1/api-tokens/${w.apiToken.id}/regenerate`, { token: w.bob.token, body: {} }),
  },
  {
    name: 'API-Token narrowed (rw → r)',
    source: 'api',
    change: (w) =>
      w.a.call('PATCH', `/api/v1/api-tokens/${w.apiToken.id}`, {
        token: w.bob.token,
        body: { permission: 'r' },
      }),
  },
  {
    name: 'API-Token reported leaked',
    source: 'api',
    change: (w) => w.a.call('POST', '/api/v1/leaked-tokens', { body: { tokens: [w.apiToken.token] } }),
  },
  {
    name: 'kill switch on the base',
    source: 'api',
    change: (w) => w.a.call('POST', '/api/v1/kill-switch', { token: w.admin, body: { base_uuid: w.base } }),
  },
  {
    name: "a system admin revokes the user's tokens",
    source: 'api',
    change: (w) => w.a.call('POST', `/api/v1/users/${w.bob.id}/revoke-tokens`, { token: w.admin }),
  },
  {
    name: 'user deactivated (API-Token)',
    source: 'api',
    change: (w) =>
      w.a.call('PATCH', `/api/v1/users/${w.bob.id}`, { token: w.admin, body: { is_active: false } }),
  },
  {
    name: 'user deactivated (Account-Token)',
    source: 'account',
    change: (w) =>
      w.a.call('PATCH', `/api/v1/users/${w.bob.id}`, { token: w.admin, body: { is_active: false } }),
  },
  {
    name: 'member removed (API-Token)',
    source: 'api',
    change: (w) => w.a.call('DELETE', `/api/v1/bases/${w.base}/members/${w.bob.id}`, { token: w.admin }),
  },
  {
    name: 'member demoted rw → r (Account-Token)',
    source: 'account',
    change: (w) =>
      w.a.call('PUT', `/api/v1/bases/${w.base}/members/${w.bob.id}`, {
        token: w.admin,
        body: { permission: 'r' },
      }),
  },
  {
    name: 'Account-Token revoked (sign-out)',
    source: 'account',
    change: (w) => w.a.call('DELETE', `/api/v1/account-tokens/${w.accountTokenId}`, { token: w.bob.token }),
  },
  {
    name: 'password changed (from another session)',
    source: 'account',
    change: async (w) =>
      w.a.call('POST', '/api/v1/me/password', {
        token: await w.a.login('bob@example.com', PASSWORD),
        body: { current_password: PASSWORD, new_password: 'another perfectly fine passphrase' },
      }),
  },
  {
    name: "temporary API-Token's Account-Token signed out",
    source: 'temp',
    change: (w) => w.a.call('DELETE', `/api/v1/account-tokens/${w.accountTokenId}`, { token: w.bob.token }),
  },
  {
    name: 'temporary API-Token revoked by its jti',
    source: 'temp',
    change: (w) => w.a.call('POST', '/api/v1/base-tokens/revoke', { body: { token: w.tempToken } }),
  },
];

describe('class 02: the revocation time is taken before the write commits', () => {
  it.each(changes)(
    '$name: a Base-Token another process exchanged before the change committed, in a later second, is refused',
    async ({ source, change }) => {
      const w = await world();
      const verifier = feedVerifier(w.a);
      const jwt = await exchangeOnB(w, source);
      expect(await verifier.checkSynced(jwt)).toBe('accepted');

      const changed = await change(w);
      expect(changed.status).toBeLessThan(300);
      expect(await verifier.checkSynced(jwt)).toBe('token_revoked');
      w.close();
    },
  );

  it('a Base-Token exchanged in the same second as its API-Token was disabled and re-enabled works, the earlier one does not', async () => {
    const w = await world();
    const verifier = feedVerifier(w.a);
    const before = await exchangeOnB(w, 'api');
    for (const enabled of [false, true]) {
      const toggled = await w.a.call('PATCH', `/api/v1/api-tokens/${w.apiToken.id}`, {
        token: w.bob.token,
        body: { enabled },
      });
      expect(toggled.status).toBe(200);
    }
    // Same second as the toggle, same process: no clock can tell the two apart.
    const after = await w.a.call('POST', '/api/v1/base-tokens', {
      token: w.apiToken.token,
      body: { base_uuid: w.base },
    });
    expect(after.status).toBe(201);
    expect(decodeJwt(after.body.base_token).iat).toBe(START / 1000);
    expect(await verifier.checkSynced(before)).toBe('token_revoked');
    expect(await verifier.checkSynced(after.body.base_token)).toBe('accepted');
    w.close();
  });

  it('a member demoted and promoted again in one second gets a working Base-Token at once; the earlier one is refused', async () => {
    const w = await world();
    const verifier = feedVerifier(w.a);
    const before = await exchangeOnB(w, 'account');
    for (const permission of ['r', 'rw'])
      await w.a.call('PUT', `/api/v1/bases/${w.base}/members/${w.bob.id}`, {
        token: w.admin,
        body: { permission },
      });
    const after = await w.a.call('POST', '/api/v1/base-tokens', {
      token: w.bob.token,
      body: { base_uuid: w.base },
    });
    expect(after.status).toBe(201);
    expect(after.body.permission).toBe('rw');
    expect(await verifier.checkSynced(before)).toBe('token_revoked');
    expect(await verifier.checkSynced(after.body.base_token)).toBe('accepted');
    w.close();
  });

  it('a change to one token leaves the Base-Tokens of its other sources alone, whatever the clocks', async () => {
    const w = await world();
    const verifier = feedVerifier(w.a);
    const other = await w.a.createApiToken(w.bob.token, w.base, 'other', 'rw');
    const fromOther = (
      await w.b.call('POST', '/api/v1/base-tokens', { token: other.token, body: { base_uuid: w.base } })
    ).body.base_token as string;
    const fromAccount = await exchangeOnB(w, 'account');
    const fromTemp = await exchangeOnB(w, 'temp');
    expect(
      (await w.a.call('DELETE', `/api/v1/api-tokens/${w.apiToken.id}`, { token: w.bob.token })).status,
    ).toBe(204);
    expect(await verifier.checkSynced(fromOther)).toBe('accepted');
    expect(await verifier.checkSynced(fromAccount)).toBe('accepted');
    expect(await verifier.checkSynced(fromTemp)).toBe('accepted');
    w.close();
  });

  it('Base-Tokens from before the upgrade (no `gen`) are still compared by time', async () => {
    const w = await world();
    const verifier = feedVerifier(w.a);
    const key = await w.a.deps.keys.current();
    const legacy = (iat: number) =>
      new SignJWT({
        client_id: w.apiToken.id,
        token_type: 'api_token',
        token_name: 'job',
        base_uuid: w.base,
        permission: 'rw',
      })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .setIssuer('http://tokenladder.test')
        .setAudience(`urn:tokenladder:base:${w.base}`)
        .setSubject(w.bob.id)
        .setJti(crypto.randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(key.privateKey);
    const now = START / 1000;
    const atRevocation = await legacy(now);
    const later = await legacy(now + 1);
    expect(await verifier.checkSynced(atRevocation)).toBe('accepted');
    expect(
      (
        await w.a.call('PATCH', `/api/v1/api-tokens/${w.apiToken.id}`, {
          token: w.bob.token,
          body: { enabled: false },
        })
      ).status,
    ).toBe(200);
    expect(await verifier.checkSynced(atRevocation)).toBe('token_revoked');
    expect(await verifier.checkSynced(later)).toBe('accepted');
    w.close();
  });
});

describe('class 02, clocks of instances differ', () => {
  it('a temporary API-Token one instance minted with its clock ahead exchanges on another at once', async () => {
    const w = await world();
    const workspace = (await w.a.call('GET', '/api/v1/workspaces', { token: w.admin })).body.workspaces[0].id;
    const minted = await w.b.call('GET', `/api/v2.1/workspace/${workspace}/dtable/Base/temp-api-token/`, {
      headers: { authorization: `Token ${w.bob.token}` },
    });
    expect(minted.status).toBe(200);
    expect(decodeJwt(minted.body.api_token).iat).toBe(START / 1000 + 2);
    const exchanged = await w.a.call('GET', '/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${minted.body.api_token}` },
    });
    expect(exchanged.status).toBe(200);
    // And once it is past its hour (by the exchanging instance's clock), it is refused.
    w.a.clock.advance(3600 + 2);
    const late = await w.a.call('GET', '/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${minted.body.api_token}` },
    });
    expect(late.status).toBe(401);
    w.close();
  });
});

describe('class 02, the same gap for lists: which tokens a user-wide change ends is read inside its write', () => {
  it('a token another process made after the deactivation was prepared, and exchanged before it committed, is refused', async () => {
    const w = await world();
    const verifier = feedVerifier(w.a);
    // The deactivation's feed entries, built as the change prepares its write…
    const published = publishOwnedRevocations(w.a.deps, 'api', { owner: w.bob.id }, 'user_deactivated');
    // …meanwhile process B makes a new API-Token and exchanges it…
    const made = await w.b.call('POST', `/api/v1/bases/${w.base}/api-tokens`, {
      token: w.bob.token,
      body: { name: 'made meanwhile', permission: 'r' },
    });
    expect(made.status).toBe(201);
    const meanwhile = (
      await w.b.call('POST', '/api/v1/base-tokens', { token: made.body.token, body: { base_uuid: w.base } })
    ).body.base_token as string;
    // …then the write commits: the entries are chosen from the rows as they are now.
    await w.a.deps.atomic([...published]);
    expect(await verifier.checkSynced(meanwhile)).toBe('token_revoked');
    w.close();
  });
});
