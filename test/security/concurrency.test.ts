// Catalog §2f (races, with Promise.all on a file database) and §2g persistence faults that a test
// can produce in process (F-02..F-05, F-11). F-01 (SIGKILL) is test/e2e/durability.test.ts.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app';
import { claimsOf, expectErrorBody, expectRejected, SECURITY_CONFIG, world, type World } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'tl-races-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A world on its own database file (races and faults need a real file, WAL and locks). */
const fileWorld = async (): Promise<World & { file: string }> => {
  const file = join(dir, `db-${files++}.sqlite`);
  return Object.assign(await world({}, file), { file });
};

const exchange = (w: World, token: string, body?: unknown) =>
  w.t.call('POST', '/api/v1/base-tokens', { token, body });
const mint = async (w: World, name: string) => {
  const response = await w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
    token: w.alice.token,
    body: { name, permission: 'rw' },
  });
  expect(response.status).toBe(201);
  return response.body as { id: string; token: string };
};

describe('races', () => {
  it('R-01 20 × regenerate the same token: 200 or 409 each, exactly one secret works afterwards', async () => {
    const w = await fileWorld();
    const token = await mint(w, 'r01');
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: w.alice.token }),
      ),
    );
    for (const reply of replies) expect([200, 409]).toContain(reply.status);
    const working: string[] = [];
    for (const secret of [
      token.token,
      ...replies.filter((r) => r.status === 200).map((r) => r.body.token as string),
    ]) {
      if ((await exchange(w, secret)).status === 201) working.push(secret);
    }
    expect(working).toHaveLength(1);
    expect(w.t.raw.prepare("SELECT count(*) AS n FROM api_tokens WHERE name = 'r01'").get()).toEqual({
      n: 1,
    });
  });

  it('R-02 regenerate ∥ exchanges with the old secret: each exchange 201 or 401, every Base-Token names its API-Token', async () => {
    const w = await fileWorld();
    const token = await mint(w, 'r02');
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => exchange(w, token.token)),
      w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: w.alice.token }),
      ...Array.from({ length: 5 }, () => exchange(w, token.token)),
    ]);
    expect(results[5]!.status).toBe(200);
    for (const r of [...results.slice(0, 5), ...results.slice(6)]) {
      expect([201, 401]).toContain(r.status);
      // Revocable by client_id (the feed keys on it), never by the token string.
      if (r.status === 201) expect(claimsOf(r.body.base_token).client_id).toBe(token.id);
    }
    expect((await exchange(w, token.token)).status).toBe(401);
  });

  it('R-03 delete ∥ regenerate ∥ exchange: ends deleted, never resurrected', async () => {
    const w = await fileWorld();
    const token = await mint(w, 'r03');
    const results = await Promise.all([
      w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: w.alice.token }),
      w.t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: w.alice.token }),
      w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, { token: w.alice.token }),
      exchange(w, token.token),
    ]);
    expect(results[1]!.status).toBe(204);
    for (const r of [results[0]!, results[2]!]) expect([200, 404, 409]).toContain(r.status);
    for (const secret of [
      token.token,
      ...[results[0]!, results[2]!].filter((r) => r.status === 200).map((r) => r.body.token as string),
    ]) {
      expect((await exchange(w, secret)).status).toBe(401);
    }
    expect(
      w.t.raw
        .prepare(
          "SELECT count(*) AS n, sum(revoked_at IS NOT NULL) AS revoked FROM api_tokens WHERE name = 'r03'",
        )
        .get(),
    ).toEqual({ n: 1, revoked: 1 });
  });

  it('R-04 20 × create the same name on the same base: exactly one 201, the rest 409', async () => {
    const w = await fileWorld();
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
          token: w.alice.token,
          body: { name: 'r04', permission: 'r' },
        }),
      ),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of replies.filter((r) => r.status !== 201)) expectErrorBody(r, 409, 'conflict');
    expect(w.t.raw.prepare("SELECT count(*) AS n FROM api_tokens WHERE name = 'r04'").get()).toEqual({
      n: 1,
    });
  });

  it('R-06 demotion ∥ exchanges: once an r Base-Token is issued, no rw one follows', async () => {
    const w = await fileWorld();
    const user = await w.user('r06@example.com');
    await w.member(w.baseA, user, 'rw');
    const token = await w.t.createApiToken(user.token, w.baseA, 'r06', 'rw');
    const order: string[] = [];
    const track = (p: Promise<{ status: number; body: { permission?: string } }>) =>
      p.then((r) => order.push(r.status === 201 ? r.body.permission! : String(r.status)));
    await Promise.all([
      ...Array.from({ length: 8 }, () => track(exchange(w, token.token))),
      w.t.call('PUT', `/api/v1/bases/${w.baseA}/members/${user.id}`, {
        token: w.alice.token,
        body: { permission: 'r' },
      }),
      ...Array.from({ length: 8 }, () => track(exchange(w, token.token))),
    ]);
    const firstR = order.indexOf('r');
    if (firstR >= 0) expect(order.slice(firstR).every((p) => p === 'r')).toBe(true);
    expect((await exchange(w, token.token)).body.permission).toBe('r');
    await expectRejected(
      w.t,
      () => exchange(w, token.token, { permission: 'rw' }),
      403,
      'insufficient_permission',
    );
  });

  it('R-07 overlapping bulk deletes: all or nothing, each id revoked once', async () => {
    const w = await fileWorld();
    const [a, b, c] = [await mint(w, 'r07a'), await mint(w, 'r07b'), await mint(w, 'r07c')];
    const bulk = (ids: string[]) =>
      w.t.call('POST', '/api/v1/api-tokens/bulk-delete', { token: w.alice.token, body: { ids } });
    const [first, second] = await Promise.all([bulk([a.id, b.id]), bulk([b.id, c.id])]);
    const statuses = [first.status, second.status].sort();
    expect(statuses[0]).toBeLessThan(300);
    // The loser either found b already revoked (404, nothing of it applied) or ran first.
    if (statuses[1]! >= 400) {
      expect(statuses[1]).toBe(404);
      const loserIds = first.status >= 400 ? [a.id, b.id] : [b.id, c.id];
      const untouched = loserIds.find((id) => id !== b.id)!;
      expect(w.t.raw.prepare('SELECT revoked_at FROM api_tokens WHERE id = ?').get(untouched)).toEqual({
        revoked_at: null,
      });
    }
    expect(
      w.t.raw
        .prepare('SELECT count(*) AS n FROM api_tokens WHERE id = ? AND revoked_at IS NOT NULL')
        .get(b.id),
    ).toEqual({ n: 1 });
  });

  it('R-08 key rotation ∥ exchanges: every issued Base-Token is signed by a key in the JWKS', async () => {
    const w = await fileWorld();
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => exchange(w, w.tokens.aliceRw.token)),
      w.t.call('POST', '/api/v1/keys/rotate', { token: w.admin.token, body: { activate_after_seconds: 0 } }),
      ...Array.from({ length: 6 }, () => exchange(w, w.tokens.aliceRw.token)),
    ]);
    expect(results[6]!.status).toBeLessThan(300);
    const kids = new Set(
      ((await w.t.call('GET', '/.well-known/jwks.json')).body.keys as { kid: string }[]).map((k) => k.kid),
    );
    for (const r of [...results.slice(0, 6), ...results.slice(7)]) {
      expect(r.status).toBe(201);
      const header = JSON.parse(Buffer.from(r.body.base_token.split('.')[0], 'base64url').toString());
      expect(kids.has(header.kid)).toBe(true);
    }
  });

  it('R-10 100 × exchange the same API-Token: 100 distinct jti, no 5xx, last_used_at set once', async () => {
    const w = await fileWorld();
    const results = await Promise.all(Array.from({ length: 100 }, () => exchange(w, w.tokens.bobR.token)));
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    expect(new Set(results.map((r) => claimsOf(r.body.base_token).jti)).size).toBe(100);
    expect(w.t.raw.prepare('SELECT last_used_at FROM api_tokens WHERE id = ?').get(w.tokens.bobR.id)).toEqual(
      { last_used_at: Math.floor(w.t.clock.now() / 1000) },
    );
  });

  it('R-11 check-then-act is one conditional write: concurrent renames to one name give one 200 and one 409', async () => {
    const w = await fileWorld();
    const [a, b] = [await mint(w, 'r11a'), await mint(w, 'r11b')];
    const replies = await Promise.all(
      [a, b].map((t) =>
        w.t.call('PATCH', `/api/v1/api-tokens/${t.id}`, { token: w.alice.token, body: { name: 'r11' } }),
      ),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(
      w.t.raw.prepare("SELECT count(*) AS n FROM api_tokens WHERE name = 'r11' AND revoked_at IS NULL").get(),
    ).toEqual({ n: 1 });
  });
});

describe('persistence faults', () => {
  it('F-02 the database runs in WAL mode with synchronous=FULL', async () => {
    const w = await fileWorld();
    expect(w.t.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(w.t.raw.pragma('synchronous', { simple: true })).toBe(2);
    expect(w.t.raw.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('F-03 a database locked by another process: 503 service_unavailable with Retry-After, nothing written, no hang', async () => {
    const w = await fileWorld();
    w.t.raw.pragma('busy_timeout = 200'); // the configured 5 s, shortened for the test
    const other = new Database(w.file);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const started = Date.now();
      const response = await w.t.call('POST', '/api/v1/bases', {
        token: w.alice.token,
        body: { name: 'f03' },
      });
      expectErrorBody(response, 503, 'service_unavailable');
      expect(response.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(5000);
      other.exec('ROLLBACK');
      expect(w.t.raw.prepare("SELECT count(*) AS n FROM bases WHERE name = 'f03'").get()).toEqual({ n: 0 });
    } finally {
      other.close();
    }
  });

  it('F-04 disk full (max_page_count reached): 503, rolled back, earlier rows intact, recovers when space returns', async () => {
    const w = await fileWorld();
    const tokensBefore = (w.t.raw.prepare('SELECT count(*) AS n FROM api_tokens').get() as { n: number }).n;
    const pages = w.t.raw.pragma('page_count', { simple: true }) as number;
    w.t.raw.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 20 }, (_, i) =>
      w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.alice.token,
        body: { name: `f04-${i}-${'x'.repeat(90)}`, permission: 'r' },
      }),
    );
    const results = await Promise.all(big);
    const full = results.filter((r) => r.status !== 201);
    expect(full.length).toBeGreaterThan(0);
    for (const r of full) {
      expectErrorBody(r, 503, 'service_unavailable');
      expect(r.headers.get('retry-after')).not.toBeNull();
    }
    const created = results.filter((r) => r.status === 201).length;
    expect(w.t.raw.prepare('SELECT count(*) AS n FROM api_tokens').get()).toEqual({
      n: tokensBefore + created,
    });
    expect(w.t.raw.pragma('integrity_check', { simple: true })).toBe('ok');
    w.t.raw.pragma('max_page_count = 1073741823');
    expect(
      (await w.t.call('POST', '/api/v1/bases', { token: w.alice.token, body: { name: 'f04-after' } })).status,
    ).toBe(201);
  });

  it('F-05 a read-only database at run time: 503, not 500', async () => {
    const w = await fileWorld();
    w.t.raw.pragma('query_only = ON');
    try {
      const response = await w.t.call('POST', '/api/v1/bases', {
        token: w.alice.token,
        body: { name: 'f05' },
      });
      expectErrorBody(response, 503, 'service_unavailable');
    } finally {
      w.t.raw.pragma('query_only = OFF');
    }
  });

  it('F-11 clock steps: forward expires on time; back does not revive a revoked or expired token', async () => {
    const t = await testApp({ config: SECURITY_CONFIG });
    const admin = await t.login();
    const base = await t.createBase(admin, 'F11');
    const short = (
      await t.call('POST', `/api/v1/bases/${base}/api-tokens`, {
        token: admin,
        body: { name: 'short', permission: 'r', expires_in_days: 1 },
      })
    ).body;
    const revoked = await t.createApiToken(admin, base, 'revoked', 'r');
    expect((await t.call('DELETE', `/api/v1/api-tokens/${revoked.id}`, { token: admin })).status).toBe(204);
    t.clock.advance(86400);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: short.token })).body.error.code).toBe(
      'token_expired',
    );
    t.clock.advance(-86400 - 3600);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: revoked.token })).body.error.code).toBe(
      'token_revoked',
    );
    // Stepped back an hour the short token is inside its lifetime again: expiry is absolute, by design.
    expect((await t.call('POST', '/api/v1/base-tokens', { token: short.token })).status).toBe(201);
  });
});
