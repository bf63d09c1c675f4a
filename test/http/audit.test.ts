import { describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/query';
import { ADMIN, PASSWORD, testApp } from '../helpers/app';

type Event = {
  seq: number;
  action: string;
  outcome: string;
  actor: { user_id: string | null; token_id: string | null; client_ip: string | null };
  subject_user_id: string | null;
  base_uuid: string | null;
  target_id: string | null;
  details: Record<string, unknown> | null;
};

async function setup() {
  const t = await testApp();
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const bob = await t.userWithToken(admin, 'bob@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  return { t, admin, alice, bob, base };
}

const events = async (
  t: Awaited<ReturnType<typeof testApp>>,
  token: string,
  query = '',
): Promise<Event[]> => {
  const response = await t.call('GET', `/api/v1/audit${query}`, { token });
  expect(response.status).toBe(200);
  return response.body.events;
};

describe('audit log', () => {
  it("records every step of a token's life with who, what, which base, from where, and never a secret", async () => {
    const { t, alice, base } = await setup();
    const from = { 'x-test-client-ip': '203.0.113.7' };
    const created = await t.call('POST', `/api/v1/bases/${base}/api-tokens`, {
      token: alice.token,
      body: { name: 'etl', permission: 'rw' },
      headers: from,
    });
    const id = created.body.id as string;
    await t.call('PATCH', `/api/v1/api-tokens/${id}`, {
      token: alice.token,
      body: { name: 'etl-2', permission: 'r', enabled: false },
      headers: from,
    });
    await t.call('PATCH', `/api/v1/api-tokens/${id}`, {
      token: alice.token,
      body: { enabled: true },
      headers: from,
    });
    const regenerated = await t.call('POST', `/api/v1/api-tokens/${id}/regenerate`, {
      token: alice.token,
      headers: from,
    });
    const exchanged = await t.call('POST', '/api/v1/base-tokens', {
      token: regenerated.body.token,
      headers: from,
    });
    expect(exchanged.status).toBe(201);
    expect(
      (await t.call('DELETE', `/api/v1/api-tokens/${id}`, { token: alice.token, headers: from })).status,
    ).toBe(204);

    const mine = (await events(t, alice.token, `?token=${id}`)).reverse();
    expect(mine.map((e) => e.action)).toEqual([
      'api_token.create',
      'api_token.rename',
      'api_token.permission_change',
      'api_token.disable',
      'api_token.enable',
      'api_token.regenerate',
      'base_token.issue',
      'api_token.delete',
    ]);
    for (const event of mine) {
      expect(event).toMatchObject({
        outcome: 'success',
        subject_user_id: alice.id,
        base_uuid: base,
        actor: { client_ip: '203.0.113.7' },
      });
    }
    expect(mine[0]!.actor.user_id).toBe(alice.id);
    expect(mine[1]!.details).toEqual({ from: 'etl', to: 'etl-2' });
    // The exchange is recorded as done by the API-Token itself, its target the Base-Token's jti.
    const issue = mine.find((e) => e.action === 'base_token.issue')!;
    expect(issue.actor.token_id).toBe(id);
    const jti = JSON.parse(Buffer.from(exchanged.body.base_token.split('.')[1], 'base64url').toString()).jti;
    expect(issue.target_id).toBe(jti);

    const dump = JSON.stringify(t.raw.prepare('SELECT * FROM audit_events').all());
    for (const secret of [
      alice.token,
      created.body.token,
      regenerated.body.token,
      exchanged.body.base_token,
      PASSWORD,
    ])
      expect(dump).not.toContain(secret);
  });

  it("records failed authentication with the token id, visible to the token's owner", async () => {
    const { t, alice, base } = await setup();
    const token = await t.createApiToken(alice.token, base, 'ci', 'r');
    await t.call('PATCH', `/api/v1/api-tokens/${token.id}`, { token: alice.token, body: { enabled: false } });
    const refused = await t.call('POST', '/api/v1/base-tokens', {
      token: token.token,
      headers: { 'x-test-client-ip': '198.51.100.9' },
    });
    expect(refused.status).toBe(401);
    const [failure] = await events(t, alice.token, '?action=auth.failure');
    expect(failure).toMatchObject({
      outcome: 'failure',
      target_id: token.id,
      subject_user_id: alice.id,
      actor: { client_ip: '198.51.100.9' },
      details: { code: 'token_disabled' },
    });
    // Garbage credentials are refused without a record: they cannot fill the log.
    const before = t.raw.prepare('SELECT count(*) AS n FROM audit_events').get();
    expect((await t.call('GET', '/api/v1/me', { token: 'tl_acc_garbage' })).status).toBe(401);
    // So are well-formed tokens that do not exist (a checksum is no secret).
    const { mintOpaqueToken } = await import('../../src/tokens/opaque');
    for (const kind of ['account', 'api'] as const) {
      expect(
        (
          await t.call('POST', '/api/v1/base-tokens', {
            token: (await mintOpaqueToken(kind)).token,
            body: { base_uuid: base },
          })
        ).status,
      ).toBe(401);
    }
    expect(t.raw.prepare('SELECT count(*) AS n FROM audit_events').get()).toEqual(before);
  });

  it("shows users their own records, base admins their base's, system admins everything", async () => {
    const { t, admin, alice, bob, base } = await setup();
    await t.call('PUT', `/api/v1/bases/${base}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const bobs = await t.createApiToken(bob.token, base, 'bob-token', 'r');
    const elsewhere = await t.createBase(bob.token, 'Private');
    await t.createApiToken(bob.token, elsewhere, 'private-token', 'r');

    const seenBy = async (token: string) =>
      (await events(t, token, '?action=api_token.create')).map((e) => e.target_id);
    // Alice administers Projects: she sees Bob's token there, not the one on his own base.
    expect(await seenBy(alice.token)).toEqual([bobs.id]);
    expect(await seenBy(bob.token)).toHaveLength(2);
    expect(await seenBy(admin)).toHaveLength(2);
    // Bob asking for Alice's records gets only what he may see anyway.
    expect(await events(t, bob.token, `?user=${alice.id}&action=api_token.create`)).toEqual([]);
  });

  it('pages with a cursor and filters by action prefix, outcome and time', async () => {
    const { t, alice, base } = await setup();
    for (let i = 0; i < 5; i++) await t.createApiToken(alice.token, base, `t${i}`, 'r');
    const first = await t.call('GET', '/api/v1/audit?action=api_token.*&limit=2', { token: alice.token });
    expect(first.body.events).toHaveLength(2);
    const second = await t.call(
      'GET',
      `/api/v1/audit?action=api_token.*&limit=2&cursor=${first.body.next_cursor}`,
      { token: alice.token },
    );
    const third = await t.call(
      'GET',
      `/api/v1/audit?action=api_token.*&limit=2&cursor=${second.body.next_cursor}`,
      { token: alice.token },
    );
    expect(third.body.next_cursor).toBeNull();
    const seqs = [...first.body.events, ...second.body.events, ...third.body.events].map((e: Event) => e.seq);
    expect(seqs).toHaveLength(5);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect(await events(t, alice.token, '?outcome=failure')).toEqual([]);
    expect(await events(t, alice.token, '?since=2030-01-01T00:00:00Z')).toEqual([]);
    // `_` is not a wildcard: `api?token.` would match nothing.
    expect(await events(t, alice.token, '?action=apixtoken.*')).toEqual([]);
    for (const bad of [
      '?limit=0',
      '?limit=201',
      '?cursor=abc',
      '?since=yesterday',
      '?action=DROP%20TABLE',
      '?user=1',
      '?unknown=1',
    ]) {
      expect((await t.call('GET', `/api/v1/audit${bad}`, { token: alice.token })).status, bad).toBe(400);
    }
  });

  it('walks the log in bounded windows: pages may come back short, following next_cursor finds everything', async () => {
    const { t, alice, bob, base } = await setup();
    const bobBase = await t.createBase(bob.token, 'Bob');
    // Alice's records, far apart among Bob's.
    for (let i = 0; i < 3; i++) {
      await t.createApiToken(alice.token, base, `a${i}`, 'r');
      for (let j = 0; j < 4; j++) await t.createApiToken(bob.token, bobBase, `b${i}-${j}`, 'r');
    }
    const { listAuditEvents } = await import('../../src/audit/query');
    const principal = {
      ...(await t.deps.db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', alice.id)
        .executeTakeFirstOrThrow()),
      userId: alice.id,
      teamId: null,
      tokenId: 'x',
      tokenName: 'x',
      tokenEndsAt: null,
      gen: 0,
    };
    const found: string[] = [];
    let cursor: number | undefined;
    let pages = 0;
    do {
      const page = await listAuditEvents(
        t.deps,
        principal,
        { action: 'api_token.create', limit: 50, before: cursor },
        3,
      );
      found.push(...page.events.map((event) => event.details!.name as string));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(found).toEqual(['a2', 'a1', 'a0']);
    expect(pages).toBeGreaterThan(5);
    // `since` ends the walk at that time instead of the oldest record.
    t.clock.advance(3600);
    const since = Math.floor(t.clock.now() / 1000);
    await t.createApiToken(alice.token, base, 'late', 'r');
    const recent = await listAuditEvents(
      t.deps,
      principal,
      { action: 'api_token.create', limit: 50, since },
      3,
    );
    expect(recent).toMatchObject({ events: [{ details: { name: 'late' } }], nextCursor: null });
  });

  it('records sign-ins, failed sign-ins and key rotations', async () => {
    const { t, admin, alice } = await setup();
    await t.call('POST', '/api/v1/account-tokens', {
      body: { email: 'alice@example.com', password: 'not the password at all' },
    });
    await t.call('POST', '/api/v1/keys/rotate', { token: admin, body: {} });
    const actions = (await events(t, admin)).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toContain('account_token.login:success');
    expect(actions).toContain('account_token.login:failure');
    expect(actions).toContain('key.rotate:success');
    const failed = (await events(t, alice.token, '?action=account_token.login&outcome=failure'))[0];
    expect(failed).toMatchObject({ subject_user_id: alice.id });
  });

  it('never records an action that did not happen, and fails the action when its record cannot be written', async () => {
    const { t, alice, base } = await setup();
    const token = await t.createApiToken(alice.token, base, 'ci', 'r');
    const count = () => (t.raw.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const before = count();
    // A name conflict fails the whole write: no record of a rename.
    await t.createApiToken(alice.token, base, 'other', 'r');
    const afterOther = count();
    expect(
      (
        await t.call('PATCH', `/api/v1/api-tokens/${token.id}`, {
          token: alice.token,
          body: { name: 'other' },
        })
      ).status,
    ).toBe(409);
    expect(count()).toBe(afterOther);
    expect(afterOther).toBe(before + 1);

    // The audit table refuses writes: the action fails, and nothing of it is left behind.
    t.raw.exec(
      "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END",
    );
    const refused = await t.call('POST', `/api/v1/bases/${base}/api-tokens`, {
      token: alice.token,
      body: { name: 'unrecorded', permission: 'r' },
    });
    expect(refused.status).toBe(500);
    expect(t.raw.prepare("SELECT count(*) AS n FROM api_tokens WHERE name = 'unrecorded'").get()).toEqual({
      n: 0,
    });
    const exchange = await t.call('POST', '/api/v1/base-tokens', { token: token.token });
    expect(exchange.status).toBe(500);
    expect(exchange.body.base_token).toBeUndefined();
  });

  it('chains every record to the one before; an edit, a deletion or an insertion breaks the chain', async () => {
    const { t, admin, alice, base } = await setup();
    for (let i = 0; i < 4; i++) await t.createApiToken(alice.token, base, `t${i}`, 'r');
    const check = () => verifyAuditChain(t.deps.db, t.deps.hashToken, 3);
    const good = await check();
    expect(good).toMatchObject({ ok: true, first: 1, anchoredAt: null });
    expect(good.checked).toBe(good.last);
    const report = await t.call('GET', '/api/v1/audit/verify', { token: admin });
    expect(report.body).toMatchObject({ ok: true, checked: good.checked });
    expect((await t.call('GET', '/api/v1/audit/verify', { token: alice.token })).status).toBe(403);

    const snapshot = t.raw.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Record<
      string,
      unknown
    >[];
    const restore = () => {
      t.raw.exec('DELETE FROM audit_events');
      const insert = t.raw.prepare(
        `INSERT INTO audit_events VALUES (${Object.keys(snapshot[0]!)
          .map(() => '?')
          .join(', ')})`,
      );
      for (const row of snapshot) insert.run(...Object.values(row));
    };
    t.raw.prepare("UPDATE audit_events SET client_ip = '10.0.0.1' WHERE seq = 3").run();
    expect(await check()).toMatchObject({ ok: false, broken: { seq: 3, reason: 'hash_mismatch' } });
    restore();
    t.raw.prepare('DELETE FROM audit_events WHERE seq = 4').run();
    expect(await check()).toMatchObject({ ok: false, broken: { seq: 5, reason: 'seq_gap' } });
    restore();
    // Renumbering to hide the gap breaks the link instead.
    t.raw.exec('DELETE FROM audit_events WHERE seq = 4; UPDATE audit_events SET seq = seq - 1 WHERE seq > 4');
    expect(await check()).toMatchObject({ ok: false, broken: { seq: 4 } });
    restore();
    expect((await check()).ok).toBe(true);
  });

  it('drops records past the retention period, keeps the newest, and the rest of the chain still verifies', async () => {
    const t = await testApp({ config: { auditRetentionSeconds: 86400 } });
    const admin = await t.login();
    await t.createBase(admin, 'Old');
    const oldCount = (t.raw.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    expect(oldCount).toBeGreaterThan(0);
    t.clock.advance(2 * 86400);
    await t.createBase(admin, 'New');
    // The retention pass runs after the commit, outside the write queue.
    for (
      let i = 0;
      i < 50 &&
      (t.raw.prepare('SELECT min(seq) AS first FROM audit_events').get() as { first: number }).first <=
        oldCount;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const remaining = t.raw.prepare('SELECT min(seq) AS first, count(*) AS n FROM audit_events').get() as {
      first: number;
      n: number;
    };
    expect(remaining.first).toBeGreaterThan(oldCount);
    const report = await verifyAuditChain(t.deps.db, t.deps.hashToken);
    expect(report).toMatchObject({ ok: true, first: remaining.first });
    expect(report.anchoredAt).not.toBeNull();
  });

  it('keeps one chain when several processes write to the same database', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'tl-audit-')), 'db.sqlite');
    const first = await testApp({ file });
    const second = await testApp({ file, kekText: first.kekText });
    const admin1 = await first.login();
    const admin2 = await second.login(ADMIN.email, ADMIN.password);
    // Interleaved writers, each with a stale idea of the chain's head.
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? first : second).createBase(i % 2 ? admin1 : admin2, `b${i}`),
      ),
    );
    const report = await verifyAuditChain(first.deps.db, first.deps.hashToken);
    expect(report.ok).toBe(true);
    expect(report.checked).toBe(
      (first.raw.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n,
    );
  });
});
