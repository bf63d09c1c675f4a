import { describe, expect, it } from 'vitest';
import { appConfigFromEnv, parseEnv, type AppConfig } from '../../src/config';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';
import { createRevocationList } from '../../src/verify';
import { feedVerifier } from '../helpers/feed-verifier';

/**
 * Class 7 of issue 13: no signed-in user (nor an anonymous holder of Base-Tokens) can grow the
 * revocation feed without limit, and a verifier that has not read the whole feed refuses tokens
 * instead of accepting ones revoked in a page it has not read yet.
 */

type Entry = { kind: string; value: string; revoked_at: number; expires_at: number };

/** Every entry of the feed, read page by page from the start. */
async function wholeFeed(t: TestApp): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor = '0';
  for (;;) {
    const page = (await t.call('GET', `/api/v1/revocations?since=${cursor}`)).body;
    entries.push(...page.revocations);
    cursor = page.cursor;
    if (page.complete) return entries;
  }
}

async function setup(config: Partial<AppConfig> = {}) {
  const t = await testApp({ config });
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  const api = await t.createApiToken(alice.token, base, 'job', 'r');
  return { t, alice, base, api };
}

const exchange = async (t: TestApp, token: string) =>
  (await t.call('POST', '/api/v1/base-tokens', { token })).body.base_token as string;

describe('class 07: the revocation feed can be grown without limit', () => {
  it('toggling `enabled` in a loop leaves one entry per token, and pollers still see each new revocation', async () => {
    const { t, alice, api } = await setup();
    const verifier = feedVerifier(t);
    const toggle = async (enabled: boolean) => {
      const answer = await t.call('PATCH', `/api/v1/api-tokens/${api.id}`, {
        token: alice.token,
        body: { enabled },
      });
      expect(answer.status).toBe(200);
      t.clock.advance(1);
    };
    for (let round = 0; round < 50; round++) {
      await toggle(false);
      await toggle(true);
      if (round === 10) await verifier.revocations.sync();
    }
    const entries = (await wholeFeed(t)).filter((entry) => entry.value === api.id);
    expect(entries.length).toBeLessThanOrEqual(1);

    // A Base-Token issued now, then the token disabled once more: a poller that read the feed
    // earlier (its cursor past the older entry for this token) must see the new revocation time.
    t.clock.advance(5);
    const jwt = await exchange(t, api.token);
    await verifier.revocations.sync();
    expect(await verifier.accepts(jwt)).toBe(true);
    t.clock.advance(5);
    await toggle(false);
    await verifier.revocations.sync();
    expect(await verifier.accepts(jwt)).toBe(false);
    // A fresh verifier reading the feed from the start refuses it too.
    const fresh = feedVerifier(t);
    await fresh.revocations.sync();
    expect(await fresh.accepts(jwt)).toBe(false);
    expect((await wholeFeed(t)).filter((entry) => entry.value === api.id)).toHaveLength(1);
  });

  it('create → delete in a loop stops at the daily creation quota: 429, the feed stops growing, nothing written', async () => {
    const quota = 20;
    // setup() creates one token ('job'): that one counts too.
    const { t, alice, base } = await setup({ apiTokenCreateLimit: quota });
    const create = (name: string, token = alice.token) =>
      t.call('POST', `/api/v1/bases/${base}/api-tokens`, { token, body: { name, permission: 'r' } });
    const feedSizes: number[] = [];
    for (let i = 1; i < quota; i++) {
      const created = await create(`loop-${i}`);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const deleted = await t.call('DELETE', `/api/v1/api-tokens/${created.body.id}`, { token: alice.token });
      expect(deleted.status).toBe(204);
      t.clock.advance(1);
      feedSizes.push((await wholeFeed(t)).length);
    }
    // Each delete added one entry until now.
    expect(feedSizes.at(-1)).toBe(quota - 1);

    // Past the quota: 429 with the error envelope and Retry-After, on every route that creates one,
    // and nothing written (the attempt is counted, outside the digest).
    const before = dbDigest(t.raw);
    const feedBefore = (await wholeFeed(t)).length;
    for (let i = 0; i < 10; i++) {
      const refused = await create(`over-${i}`);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limited');
      expect(refused.body.error.message).toMatch(/at most 20 API-Tokens/);
      expect(Object.keys(refused.body.error).sort()).toEqual(['code', 'message', 'request_id']);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(86400);
      t.clock.advance(1);
    }
    const multi = await t.call('POST', '/api/v1/api-tokens', {
      token: alice.token,
      body: { name: 'multi', permission: 'r', resources: { type: 'bases', base_uuids: [base] } },
    });
    expect(multi.status, JSON.stringify(multi.body)).toBe(429);
    const workspace = (await t.call('GET', '/api/v1/workspaces', { token: alice.token })).body.workspaces[0]
      .id as string;
    const seatable = await t.app.request(`/api/v2.1/workspace/${workspace}/dtable/Projects/api-tokens/`, {
      method: 'POST',
      headers: { authorization: `Token ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app_name: 'seatable', permission: 'r' }),
    });
    expect(seatable.status).toBe(429);
    expect(seatable.headers.get('retry-after')).not.toBeNull();
    expect(dbDigest(t.raw)).toBe(before);
    expect((await wholeFeed(t)).length).toBe(feedBefore);

    // The refusal is on record once per window, not once per attempt (the audit log is no way around).
    const records = (
      await t.call('GET', '/api/v1/audit?action=api_token.create&outcome=failure', { token: alice.token })
    ).body.events as { details: Record<string, unknown> }[];
    expect(records).toHaveLength(1);
    expect(records[0]!.details).toMatchObject({ code: 'rate_limited', limit: quota });

    // Another user's quota is their own; and the next day alice's is back.
    const admin = await t.login();
    const bob = await t.userWithToken(admin, 'bob@example.com');
    const bobBase = await t.createBase(bob.token, 'Bob');
    expect(
      (
        await t.call('POST', `/api/v1/bases/${bobBase}/api-tokens`, {
          token: bob.token,
          body: { name: 'mine', permission: 'r' },
        })
      ).status,
    ).toBe(201);
    t.clock.advance(86400);
    expect((await create('tomorrow')).status).toBe(201);
  });

  it('a refused creation (a taken name) does not use the quota up', async () => {
    const { t, alice, base } = await setup({ apiTokenCreateLimit: 3 });
    const create = (name: string) =>
      t.call('POST', `/api/v1/bases/${base}/api-tokens`, {
        token: alice.token,
        body: { name, permission: 'r' },
      });
    for (let i = 0; i < 5; i++) expect((await create('job')).status).toBe(409);
    expect((await create('second')).status).toBe(201);
    expect((await create('third')).status).toBe(201);
    expect((await create('fourth')).status).toBe(429);
  });

  it('takes the quota from TOKENLADDER_API_TOKEN_CREATE_LIMIT: 1000 a day unless set, at least 1', () => {
    expect(appConfigFromEnv(parseEnv({})).apiTokenCreateLimit).toBe(1000);
    expect(appConfigFromEnv(parseEnv({ TOKENLADDER_API_TOKEN_CREATE_LIMIT: '50' })).apiTokenCreateLimit).toBe(
      50,
    );
    for (const bad of ['0', '-1', '1.5', 'many'])
      expect(() => parseEnv({ TOKENLADDER_API_TOKEN_CREATE_LIMIT: bad })).toThrow(
        /TOKENLADDER_API_TOKEN_CREATE_LIMIT/,
      );
  });

  it("a system admin minting for service accounts spends the admin's own quota, whichever account", async () => {
    const { t, alice, base } = await setup({ apiTokenCreateLimit: 2 });
    const admin = await t.login();
    const services: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      const service = (await t.call('POST', '/api/v1/service-accounts', { token: admin, body: { name } }))
        .body.id as string;
      await t.call('PUT', `/api/v1/bases/${base}/members/${service}`, {
        token: alice.token,
        body: { permission: 'r' },
      });
      services.push(service);
    }
    const mint = (service: string) =>
      t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
        token: admin,
        body: { name: `sync-${service}`, permission: 'r', resources: { type: 'base', base_uuid: base } },
      });
    expect((await mint(services[0]!)).status).toBe(201);
    expect((await mint(services[1]!)).status).toBe(201);
    const before = dbDigest(t.raw);
    const refused = await mint(services[2]!);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(dbDigest(t.raw)).toBe(before);
    // Alice (who made one token in setup) still has her own second one.
    expect((await t.createApiToken(alice.token, base, 'second', 'r')).id).toBeTruthy();
  });

  it('exchange + anonymous revoke in a loop leaves a bounded feed, and every revoked Base-Token stays refused', async () => {
    const { t, api } = await setup();
    const revoked: string[] = [];
    for (let i = 0; i < 130; i++) {
      const jwt = await exchange(t, api.token);
      const answer = await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: jwt } });
      expect(answer.status).toBe(200);
      revoked.push(jwt);
    }
    // At most 100 live jti entries per source token, then one entry for the source itself.
    expect((await wholeFeed(t)).length).toBeLessThanOrEqual(101);
    const verifier = feedVerifier(t);
    await verifier.revocations.sync();
    for (const jwt of revoked) expect(await verifier.accepts(jwt)).toBe(false);
    // Nothing beyond what was revoked: a Base-Token issued later still verifies.
    t.clock.advance(2);
    const later = await exchange(t, api.token);
    await verifier.revocations.sync();
    expect(await verifier.accepts(later)).toBe(true);
  });

  it('a verifier whose sync stops at its page cap refuses tokens until it has read the whole feed', async () => {
    // A feed of 150 one-entry pages (a verifier reads at most 100 per sync); page 120 revokes `victim`.
    const pages = 150;
    const now = Date.UTC(2026, 10, 1, 12, 0, 0);
    const seconds = Math.floor(now / 1000);
    const feed = async (input: string | URL | Request) => {
      const since = Number(new URL(String(input)).searchParams.get('since') ?? '0');
      const seq = since + 1;
      return Response.json({
        revocations: [
          {
            kind: 'client',
            value: seq === 120 ? 'victim' : `filler-${seq}`,
            revoked_at: seconds,
            expires_at: seconds + 3600,
          },
        ],
        cursor: String(seq),
        complete: seq >= pages,
        reset: false,
      });
    };
    const revocations = createRevocationList({
      url: 'http://issuer.test/api/v1/revocations',
      fetch: feed as typeof fetch,
      currentDate: () => new Date(now),
    });
    const aud = 'urn:tokenladder:base:0f8fad5b-d9cb-469f-a165-70867728950e';
    const victim = { client_id: 'victim', jti: 'j1', iat: seconds - 10, aud, sub: 'u1' };
    const bystander = { client_id: 'bystander', jti: 'j2', iat: seconds - 10, aud, sub: 'u2' };
    // Nothing read yet: nothing is accepted.
    expect(() => revocations.check(bystander)).toThrow(
      expect.objectContaining({ code: 'revocations_unavailable' }),
    );
    await revocations.sync();
    expect(() => revocations.check(victim)).toThrow();
    expect(() => revocations.check(bystander)).toThrow(
      expect.objectContaining({ code: 'revocations_unavailable' }),
    );
    // Once the rest is read: the revoked token is refused as revoked, the other accepted.
    await revocations.sync();
    expect(() => revocations.check(victim)).toThrow(expect.objectContaining({ code: 'token_revoked' }));
    expect(() => revocations.check(bystander)).not.toThrow();
  });

  it('a verifier refuses every token while the feed holds an entry kind it does not understand', async () => {
    const now = Date.UTC(2026, 10, 1, 12, 0, 0);
    const seconds = Math.floor(now / 1000);
    let kind = 'client';
    const revocations = createRevocationList({
      url: 'http://issuer.test/api/v1/revocations',
      fetch: (async () =>
        Response.json({
          revocations: [{ kind, value: 'someone', revoked_at: seconds, expires_at: seconds + 3600 }],
          cursor: '1',
          complete: true,
          reset: false,
        })) as typeof fetch,
      currentDate: () => new Date(now),
    });
    const claims = {
      client_id: 'bystander',
      jti: 'j',
      iat: seconds - 10,
      aud: 'urn:tokenladder:base:0f8fad5b-d9cb-469f-a165-70867728950e',
      sub: 'u1',
    };
    await revocations.sync();
    expect(() => revocations.check(claims)).not.toThrow();
    kind = 'something_new';
    await expect(revocations.sync()).rejects.toThrow(/does not understand/);
    expect(() => revocations.check(claims)).toThrow(
      expect.objectContaining({ code: 'revocations_unavailable' }),
    );
  });
});
