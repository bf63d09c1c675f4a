import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import { PASSWORD, START, testApp, type TestApp } from '../helpers/app';

// Issue 13, class 5: a Base-Token's `exp` is the earliest of the asked/configured lifetime and the end
// of everything it came from: the API-Token's expiry (or its previous secret's grace period), the token
// policy's maximum lifetime, the Account-Token's expiry and maximum age, a temporary API-Token's own
// expiry and its Account-Token's. On every exchange path, and the answer says the JWT's `exp`.

const T0 = START / 1000;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const now = (t: TestApp) => Math.floor(t.clock.now() / 1000);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Two instances (processes) on one database file; the second with its own configuration. */
async function twoInstances(config: Partial<AppConfig>) {
  const dir = mkdtempSync(join(tmpdir(), 'tl-class05-'));
  dirs.push(dir);
  const file = join(dir, 'tokenladder.db');
  const first = await testApp({ file });
  const second = await testApp({ file, kekText: first.kekText, config });
  return {
    first,
    second,
    advance(seconds: number) {
      first.clock.advance(seconds);
      second.clock.advance(seconds);
    },
  };
}

async function setup(t: TestApp) {
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  const workspace = (await t.call('GET', '/api/v1/workspaces', { token: alice.token })).body.workspaces[0]
    .id as string;
  return { admin, alice, base, workspace };
}

/** SeaTable's routes take `Authorization: Token …`. */
async function seatable(t: TestApp, path: string, credential: string) {
  const response = await t.app.request(path, { headers: { authorization: `Token ${credential}` } });
  return { status: response.status, body: await response.json() };
}

/** The native exchange: the answer's `expires_at` must be the JWT's `exp`; returns `exp`. */
async function nativeExp(t: TestApp, credential: string, body: Record<string, unknown> = {}) {
  const response = await t.call('POST', '/api/v1/base-tokens', { token: credential, body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const { exp } = claimsOf(response.body.base_token);
  expect(response.body.expires_at).toBe(iso(exp));
  return exp as number;
}

async function appAccessExp(t: TestApp, credential: string, query = '') {
  const response = await seatable(t, `/api/v2.1/dtable/app-access-token/${query}`, credential);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return claimsOf(response.body.access_token).exp as number;
}

async function apiToken(t: TestApp, owner: string, base: string, body: Record<string, unknown>) {
  const created = await t.call('POST', `/api/v1/bases/${base}/api-tokens`, {
    token: owner,
    body: { name: 'job', permission: 'rw', ...body },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; token: string };
}

describe('class 05: A Base-Token outlives its source', () => {
  it("ends with the API-Token's expiry, natively and at SeaTable's app-access-token", async () => {
    const t = await testApp();
    const { alice, base } = await setup(t);
    const token = await apiToken(t, alice.token, base, { expires_at: iso(T0 + 120) });
    expect(await nativeExp(t, token.token)).toBe(T0 + 120);
    expect(await appAccessExp(t, token.token)).toBe(T0 + 120);
    expect(await appAccessExp(t, token.token, '?exp=3d')).toBe(T0 + 120);
    // A shorter ask still wins.
    expect(await nativeExp(t, token.token, { ttl: 60 })).toBe(T0 + 60);
    expect(await appAccessExp(t, token.token, '?exp=1m')).toBe(T0 + 60);
    // A multi-base token too.
    const multi = await t.call('POST', '/api/v1/api-tokens', {
      token: alice.token,
      body: {
        name: 'multi',
        permission: 'r',
        resources: { type: 'bases', base_uuids: [base] },
        expires_at: iso(T0 + 600),
      },
    });
    expect(multi.status, JSON.stringify(multi.body)).toBe(201);
    expect(await nativeExp(t, multi.body.token, { base_uuid: base })).toBe(T0 + 600);
  });

  it("ends with the token policy's maximum lifetime, set after the token was made", async () => {
    const t = await testApp();
    const { admin, alice, base } = await setup(t);
    const token = await apiToken(t, alice.token, base, {});
    const policy = await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { max_lifetime_days: 1 },
    });
    expect(policy.status).toBe(200);
    t.clock.advance(12 * 3600);
    expect(await nativeExp(t, token.token)).toBe(T0 + 86400);
    expect(await appAccessExp(t, token.token)).toBe(T0 + 86400);
  });

  it("ends with the previous secret's grace period when exchanged with the previous secret", async () => {
    const t = await testApp();
    const { alice, base } = await setup(t);
    const token = await apiToken(t, alice.token, base, {});
    const regenerated = await t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
      token: alice.token,
      body: { grace_seconds: 300 },
    });
    expect(regenerated.status).toBe(200);
    expect(await nativeExp(t, token.token)).toBe(T0 + 300);
    expect(await appAccessExp(t, token.token)).toBe(T0 + 300);
    // The new secret is not bound by the old one's grace.
    expect(await nativeExp(t, regenerated.body.token)).toBe(T0 + 3 * 86400);
  });

  it("ends with the Account-Token's expiry, natively and at SeaTable's access-token", async () => {
    const t = await testApp();
    const { base, workspace } = await setup(t);
    const signIn = await t.call('POST', '/api/v1/account-tokens', {
      body: { email: 'alice@example.com', password: PASSWORD, expires_in_days: 1 },
    });
    expect(signIn.status).toBe(201);
    const session = signIn.body.token as string;
    t.clock.advance(12 * 3600);
    expect(await nativeExp(t, session, { base_uuid: base })).toBe(T0 + 86400);
    const access = await seatable(
      t,
      `/api/v2.1/workspace/${workspace}/dtable/Projects/access-token/`,
      session,
    );
    expect(access.status).toBe(200);
    expect(claimsOf(access.body.access_token).exp).toBe(T0 + 86400);
  });

  it("ends with the Account-Token's maximum age, even one configured after it was made", async () => {
    const { first, second, advance } = await twoInstances({ accountTokenMaxAgeSeconds: 7200 });
    const { alice, base, workspace } = await setup(first);
    // Made where no maximum age applies: it never expires by itself.
    expect(
      (await first.call('GET', '/api/v1/account-tokens', { token: alice.token })).body.account_tokens[0]
        .expires_at,
    ).toBeNull();
    advance(3600);
    expect(await nativeExp(second, alice.token, { base_uuid: base })).toBe(T0 + 7200);
    const access = await seatable(
      second,
      `/api/v2.1/workspace/${workspace}/dtable/Projects/access-token/`,
      alice.token,
    );
    expect(access.status).toBe(200);
    expect(claimsOf(access.body.access_token).exp).toBe(T0 + 7200);
  });

  it('ends with a temporary API-Token, and with the expiry and maximum age of the Account-Token that made it', async () => {
    const { first, second, advance } = await twoInstances({ accountTokenMaxAgeSeconds: 7200 });
    const t = first;
    const { alice, workspace } = await setup(t);
    const tempPath = `/api/v2.1/workspace/${workspace}/dtable/Projects/temp-api-token/`;

    // The temporary token's own hour.
    const temp = (await seatable(t, tempPath, alice.token)).body.api_token as string;
    advance(600);
    expect(await appAccessExp(t, temp)).toBe(T0 + 3600);

    // The Account-Token's expiry, when sooner than the hour.
    const signIn = await t.call('POST', '/api/v1/account-tokens', {
      body: { email: 'alice@example.com', password: PASSWORD, expires_in_days: 1 },
    });
    const madeAt = now(t);
    advance(86400 - 1200);
    const shortTemp = (await seatable(t, tempPath, signIn.body.token)).body.api_token as string;
    expect(await appAccessExp(t, shortTemp)).toBe(madeAt + 86400);

    // The Account-Token's maximum age (configured on the second instance), when sooner.
    const session = await first.login('alice@example.com', PASSWORD);
    const sessionAt = now(first);
    advance(7200 - 1800);
    const agedTemp = (await seatable(first, tempPath, session)).body.api_token as string;
    expect(await appAccessExp(second, agedTemp)).toBe(sessionAt + 7200);
  });

  it('is never refused for a token that is still valid: the bound only shortens', async () => {
    const t = await testApp();
    const { alice, base } = await setup(t);
    const token = await apiToken(t, alice.token, base, { expires_in_days: 30 });
    expect(await nativeExp(t, token.token)).toBe(T0 + 3 * 86400);
    expect(await nativeExp(t, alice.token, { base_uuid: base })).toBe(T0 + 3 * 86400);
  });
});
