import { describe, expect, it } from 'vitest';
import { mintOpaqueToken } from '../../src/tokens/opaque';
import { testApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

/** The documented bounds (README: Security model, audit log). */
const PATH_MAX = 256;
const DETAILS_MAX = 512;

async function setup() {
  const t = await testApp();
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  const api = await t.createApiToken(alice.token, base, 'ci', 'r');
  const me = await t.call('GET', '/api/v1/account-tokens', { token: alice.token });
  const accountId = (me.body.account_tokens as { id: string; current: boolean }[]).find((x) => x.current)!.id;
  const count = () => (t.raw.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
  const rows = () =>
    t.raw.prepare('SELECT action, target_id, client_ip, details FROM audit_events ORDER BY seq').all() as {
      action: string;
      target_id: string | null;
      client_ip: string | null;
      details: string | null;
    }[];
  return { t, admin, alice, base, api, accountId, count, rows };
}

const longPath = (i: number) => `/api/v1/users/${'a'.repeat(16_000)}${i}`;

describe('class 06: Anonymous callers can fill the audit log', () => {
  it('wrong secrets for real token ids write at most one bounded record per id per window', async () => {
    const { t, api, accountId, count, rows } = await setup();
    const before = count();
    const state = dbDigest(t.raw);
    for (let i = 0; i < 40; i++) {
      const from = { 'x-test-client-ip': `203.0.113.${i}` };
      // A made-up secret for Alice's real Account-Token id, at an attacker-chosen 16 KB path.
      const forgedAccount = (await mintOpaqueToken('account', accountId)).token;
      expect((await t.call('GET', longPath(i), { token: forgedAccount, headers: from })).status).toBe(401);
      // A made-up secret for her real API-Token id: at the exchange, and where an Account-Token is needed.
      const forgedApi = (await mintOpaqueToken('api', api.id)).token;
      expect((await t.call('POST', '/api/v1/base-tokens', { token: forgedApi, headers: from })).status).toBe(
        401,
      );
      expect((await t.call('GET', longPath(i), { token: forgedApi, headers: from })).status).toBe(401);
    }
    // 120 refusals: at most one record per token id in this window.
    expect(count() - before).toBeLessThanOrEqual(2);
    for (const row of rows().slice(before)) {
      expect(row.action).toBe('auth.failure');
      expect(row.details?.length ?? 0).toBeLessThanOrEqual(DETAILS_MAX);
      const details = JSON.parse(row.details ?? '{}') as { path?: string };
      expect(details.path?.length ?? 0).toBeLessThanOrEqual(PATH_MAX);
    }
    // Nothing else changed; the throttle keeps a bounded number of counters.
    expect(dbDigest(t.raw)).toBe(state);
    const counters = (t.raw.prepare('SELECT count(*) AS n FROM throttle_counters').get() as { n: number }).n;
    expect(counters).toBeLessThanOrEqual(4);

    // The next window records again, once per id.
    t.clock.advance(3601);
    const next = count();
    for (let i = 0; i < 10; i++) {
      const forgedAccount = (await mintOpaqueToken('account', accountId)).token;
      expect((await t.call('GET', longPath(i), { token: forgedAccount })).status).toBe(401);
    }
    expect(count() - next).toBeLessThanOrEqual(1);
  });

  it('records every refusal of a genuine credential, with its fields bounded', async () => {
    const { t, alice, api, accountId, count, rows } = await setup();
    await t.call('PATCH', `/api/v1/api-tokens/${api.id}`, { token: alice.token, body: { enabled: false } });
    const spare = await t.login('alice@example.com', 'a perfectly fine passphrase');
    expect((await t.call('DELETE', `/api/v1/account-tokens/${accountId}`, { token: spare })).status).toBe(
      204,
    );
    const before = count();
    for (let i = 0; i < 3; i++) {
      expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).status).toBe(401);
      expect((await t.call('GET', longPath(i), { token: alice.token })).status).toBe(401);
    }
    const added = rows().slice(before);
    expect(added).toHaveLength(6);
    for (const row of added) {
      expect(row.action).toBe('auth.failure');
      const details = JSON.parse(row.details!) as { code: string; path: string };
      expect(['token_disabled', 'token_revoked']).toContain(details.code);
      expect(details.path.length).toBeLessThanOrEqual(PATH_MAX);
      expect(row.details!.length).toBeLessThanOrEqual(DETAILS_MAX);
    }
    const revoked = added.filter((row) => row.target_id === accountId);
    expect(revoked).toHaveLength(3);
    expect(JSON.parse(revoked[0]!.details!).path).toMatch(/^\/api\/v1\/users\/a+/);
  });
});
