import { describe, expect, it } from 'vitest';
import { createBaseTokenVerifier, createRevocationList } from '../../src/verify';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

async function setup(config = {}) {
  const t = await testApp({ config });
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  return { t, admin, alice, base };
}

const feed = (t: TestApp, query = '', headers: Record<string, string> = {}) =>
  t.call('GET', `/api/v1/revocations${query}`, { headers });
const exchange = async (t: TestApp, token: string) =>
  (await t.call('POST', '/api/v1/base-tokens', { token })).body.base_token as string;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

/** A verifier of this app's Base-Tokens that fetches the feed through app.request, with the app's clock. */
function verifierFor(t: TestApp, options: { maxStalenessSeconds?: number } = {}) {
  const revocations = createRevocationList({
    url: 'http://tokenladder.test/api/v1/revocations',
    fetch: async (input, init) => t.app.request(String(input).replace('http://tokenladder.test', ''), init),
    currentDate: () => new Date(t.clock.now()),
    ...options,
  });
  return {
    revocations,
    verifier: async () =>
      createBaseTokenVerifier({
        issuer: 'http://tokenladder.test',
        jwks: await t.deps.keys.jwks(),
        currentDate: () => new Date(t.clock.now()),
        revocations,
      }),
  };
}

describe('revocation feed', () => {
  it('lists the source of every deleted, disabled, regenerated or narrowed API-Token, and nothing else', async () => {
    const { t, alice, base } = await setup();
    const ids: Record<string, string> = {};
    for (const name of ['deleted', 'disabled', 'regenerated', 'narrowed', 'renamed', 'widened'])
      ids[name] = (await t.createApiToken(alice.token, base, name, name === 'widened' ? 'r' : 'rw')).id;
    await t.call('DELETE', `/api/v1/api-tokens/${ids.deleted}`, { token: alice.token });
    await t.call('PATCH', `/api/v1/api-tokens/${ids.disabled}`, {
      token: alice.token,
      body: { enabled: false },
    });
    await t.call('POST', `/api/v1/api-tokens/${ids.regenerated}/regenerate`, { token: alice.token });
    await t.call('PATCH', `/api/v1/api-tokens/${ids.narrowed}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    await t.call('PATCH', `/api/v1/api-tokens/${ids.renamed}`, {
      token: alice.token,
      body: { name: 'renamed-2' },
    });
    await t.call('PATCH', `/api/v1/api-tokens/${ids.widened}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const answer = await feed(t);
    expect(answer.status).toBe(200);
    const now = Math.floor(t.clock.now() / 1000);
    expect(answer.body.revocations).toEqual(
      ['deleted', 'disabled', 'regenerated', 'narrowed'].map((name, index) => ({
        kind: 'client',
        value: ids[name],
        revoked_at: now,
        expires_at: now + 3 * 86400 + 60,
        // Each the next feed position: Base-Tokens exchanged before it carry a lower `gen`.
        gen: index + 1,
      })),
    );
    expect(answer.body).toMatchObject({ complete: true, reset: false, poll_interval_seconds: 30 });
    expect(JSON.stringify(answer.body)).not.toMatch(/tl_(api|acc)_/);
  });

  it('answers an idle poll with 304 and a new entry with only what is new', async () => {
    const { t, alice, base } = await setup();
    const one = await t.createApiToken(alice.token, base, 'one', 'r');
    const two = await t.createApiToken(alice.token, base, 'two', 'r');
    await t.call('DELETE', `/api/v1/api-tokens/${one.id}`, { token: alice.token });
    const first = await feed(t);
    const etag = first.headers.get('etag')!;
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const idle = await t.app.request(`/api/v1/revocations?since=${first.body.cursor}`, {
      headers: { 'if-none-match': etag },
    });
    expect(idle.status).toBe(304);
    await t.call('DELETE', `/api/v1/api-tokens/${two.id}`, { token: alice.token });
    const next = await feed(t, `?since=${first.body.cursor}`, { 'if-none-match': etag });
    expect(next.status).toBe(200);
    expect(next.body.revocations.map((entry: { value: string }) => entry.value)).toEqual([two.id]);
    // A cursor from the future (a restored database) starts the reader over.
    expect((await feed(t, '?since=999999')).body).toMatchObject({
      reset: true,
      revocations: [{ value: one.id }, { value: two.id }],
    });
    expect((await feed(t, '?since=abc')).status).toBe(400);
  });

  it('forgets entries once every Base-Token they could match has expired', async () => {
    const { t, alice, base } = await setup();
    const token = await t.createApiToken(alice.token, base, 'old', 'r');
    await t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: alice.token });
    t.clock.advance(3 * 86400 + 61);
    expect((await feed(t)).body.revocations).toEqual([]);
  });

  it('is private when the operator sets a feed credential', async () => {
    const { t } = await setup({ revocationFeedToken: 'a-feed-credential-of-at-least-32-chars' });
    expect((await feed(t)).status).toBe(401);
    expect(
      (await feed(t, '', { authorization: 'Bearer wrong-credential-of-at-least-32-characters' })).status,
    ).toBe(401);
    expect(
      (await feed(t, '', { authorization: 'Bearer a-feed-credential-of-at-least-32-chars' })).status,
    ).toBe(200);
  });

  it('lets a verifier refuse revoked Base-Tokens, even ones it verified and cached before', async () => {
    const { t, alice, base } = await setup();
    const kept = await t.createApiToken(alice.token, base, 'kept', 'r');
    const revoked = await t.createApiToken(alice.token, base, 'revoked', 'r');
    const keptJwt = await exchange(t, kept.token);
    const revokedJwt = await exchange(t, revoked.token);
    const { revocations, verifier } = verifierFor(t);
    await revocations.sync();
    const verify = await verifier();
    await verify.verify(revokedJwt, { baseUuid: base });
    await t.call('DELETE', `/api/v1/api-tokens/${revoked.id}`, { token: alice.token });
    await verify.verify(revokedJwt, { baseUuid: base }); // not polled yet: the bound is the poll interval
    expect(await revocations.sync()).toBe(true);
    await expect(verify.verify(revokedJwt, { baseUuid: base })).rejects.toMatchObject({
      code: 'token_revoked',
      status: 401,
    });
    await expect(verify.verify(keptJwt, { baseUuid: base })).resolves.toMatchObject({ client_id: kept.id });
    expect(await revocations.sync()).toBe(false); // idle: a 304
  });

  it('refuses only Base-Tokens issued before a regeneration; newer ones keep working', async () => {
    const { t, alice, base } = await setup();
    const token = await t.createApiToken(alice.token, base, 'ci', 'r');
    const before = await exchange(t, token.token);
    t.clock.advance(5);
    const regenerated = (
      await t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: alice.token })
    ).body.token;
    t.clock.advance(1);
    const after = await exchange(t, regenerated);
    const { revocations, verifier } = verifierFor(t);
    await revocations.sync();
    const verify = await verifier();
    await expect(verify.verify(before, { baseUuid: base })).rejects.toMatchObject({ code: 'token_revoked' });
    await expect(verify.verify(after, { baseUuid: base })).resolves.toBeTruthy();
  });

  it('fails closed when asked to and the feed is out of reach for too long', async () => {
    const { t, alice, base } = await setup();
    const jwt = await exchange(t, (await t.createApiToken(alice.token, base, 'ci', 'r')).token);
    const { revocations, verifier } = verifierFor(t, { maxStalenessSeconds: 60 });
    const verify = await verifier();
    await expect(verify.verify(jwt, { baseUuid: base })).rejects.toMatchObject({
      code: 'revocations_unavailable',
      status: 503,
    });
    await revocations.sync();
    await verify.verify(jwt, { baseUuid: base });
    t.clock.advance(61);
    await expect(verify.verify(jwt, { baseUuid: base })).rejects.toMatchObject({
      code: 'revocations_unavailable',
    });
  });
});

describe('revoking one Base-Token', () => {
  it('publishes its jti; garbage and foreign tokens get the same answer and change nothing', async () => {
    const { t, alice, base } = await setup();
    const token = await t.createApiToken(alice.token, base, 'ci', 'r');
    const jwt = await exchange(t, token.token);
    const before = dbDigest(t.raw);
    for (const garbage of [
      'not a token',
      `${jwt.slice(0, -4)}AAAA`,
      'eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.',
    ]) {
      const answer = await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: garbage } });
      expect(answer).toMatchObject({ status: 200, body: { received: 1 } });
    }
    expect(dbDigest(t.raw)).toBe(before);
    expect((await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: jwt } })).body).toEqual({
      received: 1,
    });
    expect((await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: jwt } })).status).toBe(200);
    const entries = (await feed(t)).body.revocations;
    expect(entries).toEqual([
      {
        kind: 'jti',
        value: claimsOf(jwt).jti,
        revoked_at: expect.any(Number),
        expires_at: claimsOf(jwt).exp + 60,
      },
    ]);
  });
});

describe('leak reports', () => {
  it('revoke every valid token in the report, say nothing about which, and record it for the owner', async () => {
    const { t, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'leaky', 'rw');
    const session = await t.login('alice@example.com', 'a perfectly fine passphrase');
    const jwt = await exchange(t, (await t.createApiToken(alice.token, base, 'other', 'r')).token);
    const report = {
      tokens: [api.token, session, jwt, 'tl_api_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'hello'],
    };
    const first = await t.call('POST', '/api/v1/leaked-tokens', { body: report });
    expect(first).toMatchObject({ status: 202, body: { received: 5 } });
    expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).body.error.code).toBe(
      'token_revoked',
    );
    expect((await t.call('GET', '/api/v1/me', { token: session })).body.error.code).toBe('token_revoked');
    const values = (await feed(t)).body.revocations.map((entry: { value: string }) => entry.value);
    expect(values).toEqual(expect.arrayContaining([api.id, claimsOf(jwt).jti]));
    const audit = await t.call('GET', '/api/v1/audit?action=token.leak_report', { token: alice.token });
    expect(audit.body.events).toHaveLength(3);
    // Idempotent: the same report again changes nothing, and answers the same.
    const before = dbDigest(t.raw);
    expect(await t.call('POST', '/api/v1/leaked-tokens', { body: report })).toMatchObject({
      status: 202,
      body: { received: 5 },
    });
    expect(dbDigest(t.raw)).toBe(before);
  });

  it('need the real secret: a right id with a wrong secret revokes nothing', async () => {
    const { t, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'safe', 'r');
    const { mintOpaqueToken } = await import('../../src/tokens/opaque');
    const forged = (await mintOpaqueToken('api', api.id)).token;
    const before = dbDigest(t.raw);
    expect((await t.call('POST', '/api/v1/leaked-tokens', { body: { tokens: [forged] } })).status).toBe(202);
    expect(dbDigest(t.raw)).toBe(before);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).status).toBe(201);
  });

  it('are rate-limited per client address', async () => {
    const { t } = await setup();
    const from = (ip: string) => ({ 'x-test-client-ip': ip });
    for (let i = 0; i < 30; i++)
      expect(
        (
          await t.call('POST', '/api/v1/leaked-tokens', {
            body: { tokens: ['x'] },
            headers: from('192.0.2.1'),
          })
        ).status,
      ).toBe(202);
    const limited = await t.call('POST', '/api/v1/leaked-tokens', {
      body: { tokens: ['x'] },
      headers: from('192.0.2.1'),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(
      (await t.call('POST', '/api/v1/leaked-tokens', { body: { tokens: ['x'] }, headers: from('192.0.2.2') }))
        .status,
    ).toBe(202);
    for (const bad of [
      {},
      { tokens: [] },
      { tokens: 'x' },
      { tokens: Array(101).fill('x') },
      { tokens: ['x'], extra: 1 },
    ]) {
      expect(
        (await t.call('POST', '/api/v1/leaked-tokens', { body: bad, headers: from('192.0.2.3') })).status,
      ).toBe(400);
    }
  });
});

describe('kill switch', () => {
  it('disables every matching token in one call, publishes them, and records each for its owner', async () => {
    const { t, admin, alice, base } = await setup();
    const bob = await t.userWithToken(admin, 'bob@example.com');
    const bobBase = await t.createBase(bob.token, 'Bob');
    const old = await t.createApiToken(alice.token, base, 'old', 'r');
    t.clock.advance(100);
    const cutoff = new Date(t.clock.now()).toISOString();
    const fresh = await t.createApiToken(alice.token, base, 'fresh', 'r');
    const bobs = await t.createApiToken(bob.token, bobBase, 'bobs', 'r');

    const dry = await t.call('POST', '/api/v1/kill-switch', {
      token: admin,
      body: { base_uuid: base, created_before: cutoff, dry_run: true },
    });
    expect(dry.body).toEqual({ disabled: 1, base_access_ended: 0, more: false, dry_run: true });
    const answer = await t.call('POST', '/api/v1/kill-switch', {
      token: admin,
      body: { base_uuid: base, created_before: cutoff },
    });
    expect(answer.body).toEqual({ disabled: 1, base_access_ended: 0, more: false, dry_run: false });
    expect((await t.call('POST', '/api/v1/base-tokens', { token: old.token })).body.error.code).toBe(
      'token_disabled',
    );
    expect((await t.call('POST', '/api/v1/base-tokens', { token: fresh.token })).status).toBe(201);
    expect((await feed(t)).body.revocations.map((entry: { value: string }) => entry.value)).toEqual([old.id]);
    const seen = (await t.call('GET', '/api/v1/audit?action=api_token.disable', { token: alice.token })).body
      .events;
    expect(seen).toMatchObject([{ target_id: old.id, details: { reason: 'kill_switch' } }]);

    // By user: everything Bob has.
    expect(
      (await t.call('POST', '/api/v1/kill-switch', { token: admin, body: { user_id: bob.id } })).body
        .disabled,
    ).toBe(1);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: bobs.token })).status).toBe(401);
  });

  it('lets base admins reach only their own base, and refuses an empty filter', async () => {
    const { t, admin, alice, base } = await setup();
    const bob = await t.userWithToken(admin, 'bob@example.com');
    const bobBase = await t.createBase(bob.token, 'Bob');
    await t.createApiToken(bob.token, bobBase, 'bobs', 'r');
    const before = dbDigest(t.raw);
    expect(
      (await t.call('POST', '/api/v1/kill-switch', { token: alice.token, body: { base_uuid: bobBase } }))
        .status,
    ).toBe(404);
    expect(
      (await t.call('POST', '/api/v1/kill-switch', { token: alice.token, body: { user_id: bob.id } })).status,
    ).toBe(403);
    expect((await t.call('POST', '/api/v1/kill-switch', { token: admin, body: {} })).status).toBe(400);
    expect(
      (await t.call('POST', '/api/v1/kill-switch', { token: admin, body: { created_before: 'yesterday' } }))
        .status,
    ).toBe(400);
    expect(dbDigest(t.raw)).toBe(before);
    expect(
      (await t.call('POST', '/api/v1/kill-switch', { token: alice.token, body: { base_uuid: base } })).body
        .disabled,
    ).toBe(0);
  });
});

describe('published token patterns (docs/security.md) for secret scanners', () => {
  it('find every kind of token we issue, inside surrounding text, and nothing else', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    // The rows of the scanner table: their pattern starts with \b.
    const pattern = (name: string) =>
      new RegExp(new RegExp(`\\| ${name} \\| \`(\\\\b[^\`]+)\``).exec(readme)![1]!);
    const { t, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'scan-me', 'r');
    const jwt = await exchange(t, api.token);
    for (const [name, token] of [
      ['Account-Token', alice.token],
      ['API-Token', api.token],
      ['Base-Token \\(JWT\\)', jwt],
    ] as const) {
      const found = pattern(name).exec(`export TOKEN="${token}" # oops`);
      expect(found?.[0], name).toBe(token);
    }
    expect(pattern('API-Token').test(alice.token)).toBe(false);
    expect(pattern('Account-Token').test(`${alice.token}x`)).toBe(false);
  });
});
