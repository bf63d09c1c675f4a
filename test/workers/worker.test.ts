import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKekText } from '../../src/keys/kek';
import { isUniqueViolation } from '../../src/store/atomic';
import { createD1Store, type D1Binding } from '../../src/store/d1';
import { readMigrations } from '../../src/store/migration-files';
import { migrateSqlite } from '../../src/store/sqlite';
import { createBaseTokenVerifier, createRevocationList } from '../../src/verify';
import { PASSWORD, testApp } from '../helpers/app';
import { d1Digest } from '../helpers/db-digest';
import {
  checkErrorCases,
  revokeAndCheck,
  verifyBaseToken,
  walkChain,
  call,
  type Chain,
  type Target,
} from '../scenarios/chain';
import { applyMigrationsWithWrangler, startWorkerd, type TestD1 } from './harness';

type Row = Record<string, unknown>;

const UNAVAILABLE = {
  error: {
    code: 'service_unavailable',
    message: 'the service is not available; its operator can see why in the logs',
  },
};

/** The D1 digest; last_used_at is left out because the real clock may cross a minute. */
const d1Rows = (db: TestD1) => d1Digest(db, { ignoreColumns: ['last_used_at'] });

const insertStatement = (table: string, row: Row) =>
  `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row)
    .map(() => '?')
    .join(', ')})`;

describe('src/worker.ts inside workerd, on a local D1 migrated by wrangler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-workerd-'));
  let run: Awaited<ReturnType<typeof startWorkerd>>;
  let target: Target;
  let chain: Chain;

  beforeAll(async () => {
    expect(await applyMigrationsWithWrangler(dir)).toMatch(/0001_init\.sql/);
    run = await startWorkerd(dir, [
      { name: 'tokenladder' },
      // Misconfigured twins of the same Worker, for the 503 cases.
      { name: 'no-kek', env: { TOKENLADDER_KEK: undefined } },
      { name: 'costly-scrypt', env: { TOKENLADDER_SCRYPT: 'ln=17,r=8,p=2' } },
      { name: 'weak-admin-password', env: { TOKENLADDER_ADMIN_PASSWORD: 'short' } },
      { name: 'wrong-kek', env: { TOKENLADDER_KEK: generateKekText() } },
      { name: 'unmigrated', d1Id: 'never-migrated' },
    ]);
    target = run.target();
  }, 60_000);
  afterAll(async () => {
    await run?.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('works on a database prepared by wrangler: its d1_migrations rows, and the schema Node builds from the same files', async () => {
    const db = await run.db();
    const { results } = await db.prepare('SELECT name FROM d1_migrations ORDER BY id').all();
    expect(results.map((row) => row.name)).toEqual(readMigrations().map((migration) => migration.name));
    const schemaOf = (rows: Row[]) =>
      rows.map((row) => ({ ...row, sql: String(row.sql).replace(/\s+/g, ' ') }));
    const query =
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT IN ('d1_migrations', 'sqlite_sequence') ORDER BY type, name";
    const node = new Database(':memory:');
    migrateSqlite(node, readMigrations());
    expect(schemaOf((await db.prepare(query).all()).results)).toEqual(
      schemaOf(node.prepare(query).all() as Row[]),
    );
  });

  it('answers /healthz and /readyz on D1 (migrations by wrangler are current); /metrics is not served', async () => {
    expect(await call(target, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call(target, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await call(target, 'GET', '/metrics')).status).toBe(404);
  });

  it('runs atomic() as one D1 batch: every statement or none, with affected-row counts', async () => {
    const { db, atomic } = createD1Store((await run.db()) as unknown as D1Binding);
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    const team = (id: string, name: string) => db.insertInto('teams').values({ id, name, created_at: 1 });
    const results = await atomic([
      team(first, `a ${first}`),
      db
        .updateTable('teams')
        .set({ name: `b ${first}` })
        .where('id', '=', first),
      db.selectFrom('teams').select('name').where('id', '=', first),
    ]);
    expect(results).toEqual([
      { rows: [], numAffectedRows: 1 },
      { rows: [], numAffectedRows: 1 },
      { rows: [{ name: `b ${first}` }], numAffectedRows: 0 },
    ]);

    const failed = await atomic([team(second, `a ${second}`), team(first, 'a duplicate id')]).catch(
      (error: unknown) => error,
    );
    expect(isUniqueViolation(failed)).toBe(true);
    expect(await db.selectFrom('teams').select('id').where('id', '=', second).execute()).toEqual([]);
    await expect(db.transaction().execute(async () => {})).rejects.toThrow(/no interactive transactions/);
    await db.deleteFrom('teams').where('id', '=', first).execute();
  });

  it('walks the whole chain; the Base-Token verifies with jose against the Worker JWKS', async () => {
    chain = await walkChain(target);
    expect(run.logs.join('\n')).toContain('created the first system admin');
  });

  it('answers the shared error table as Node does, writing nothing', async () => {
    const db = await run.db();
    await checkErrorCases(target, chain, () => d1Rows(db));
  });

  it('keeps logins working when user rows move between Node and workerd: the same scrypt PHC strings', async () => {
    const db = await run.db();
    const fromWorkerd = await db
      .prepare('SELECT * FROM users WHERE email = ?')
      .bind(target.admin.email)
      .first();
    expect(fromWorkerd!.password_hash).toMatch(
      /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );

    const node = await testApp();
    node.raw.prepare(insertStatement('users', fromWorkerd!)).run(...Object.values(fromWorkerd!));
    expect(await node.login(target.admin.email, target.admin.password)).toMatch(/^tl_acc_/);

    const madeOnNode = await node.userWithToken(await node.login(), 'made-on-node@example.com');
    const user = node.raw.prepare('SELECT * FROM users WHERE id = ?').get(madeOnNode.id) as Row;
    const workspace = node.raw
      .prepare('SELECT * FROM workspaces WHERE owner_user_id = ?')
      .get(madeOnNode.id) as Row;
    await db.batch([
      db.prepare(insertStatement('users', user)).bind(...Object.values(user)),
      db.prepare(insertStatement('workspaces', workspace)).bind(...Object.values(workspace)),
    ]);
    const signIn = await call(target, 'POST', '/api/v1/account-tokens', {
      body: { email: 'made-on-node@example.com', password: PASSWORD },
    });
    expect(signIn.status).toBe(201);
  });

  it('makes revocation take effect at once', async () => {
    await revokeAndCheck(target, chain);
  });

  it('keeps the audit log one verifiable chain on D1, and publishes revocations to the feed', async () => {
    const admin = (
      await call(target, 'POST', '/api/v1/account-tokens', {
        body: { email: target.admin.email, password: target.admin.password },
      })
    ).body.token;
    // Concurrent writes in the Worker: each record links to the one before, none is lost.
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(target, 'POST', '/api/v1/bases', { token: admin, body: { name: `d1-concurrent-${i}` } }),
      ),
    );
    expect(created.map((response) => response.status)).toEqual(Array(8).fill(201));
    const report = await call(target, 'GET', '/api/v1/audit/verify', { token: admin });
    expect(report.body).toMatchObject({ ok: true, first: 1 });
    const db = await run.db();
    expect(report.body.checked).toBe((await db.prepare('SELECT count(*) AS n FROM audit_events').first())!.n);
    const actions = (await call(target, 'GET', '/api/v1/audit?limit=200', { token: admin })).body.events.map(
      (event: { action: string }) => event.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'account_token.login',
        'base.create',
        'api_token.create',
        'base_token.issue',
        'api_token.delete',
        'auth.failure',
      ]),
    );
    // D1 binds at most 100 parameters per statement: a bulk delete of many tokens still works there.
    const base = created[0]!.body.uuid as string;
    const many = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call(target, 'POST', `/api/v1/bases/${base}/api-tokens`, {
          token: admin,
          body: { name: `bulk-${i}`, permission: 'r' },
        }),
      ),
    );
    const ids = many.map((response) => response.body.id as string);
    const deleted = await call(target, 'POST', '/api/v1/api-tokens/bulk-delete', {
      token: admin,
      body: { ids },
    });
    expect([deleted.status, deleted.body]).toEqual([200, { deleted: 60 }]);
    expect((await call(target, 'GET', '/api/v1/audit/verify', { token: admin })).body.ok).toBe(true);
    // revokeAndCheck deleted an API-Token: its Base-Tokens are in the feed.
    const feed = await call(target, 'GET', '/api/v1/revocations');
    expect(feed.status).toBe(200);
    expect(feed.body.revocations).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'client' })]),
    );
    expect(feed.body.revocations.map((entry: { value: string }) => entry.value)).toEqual(
      expect.arrayContaining(ids),
    );

    // The kill switch blocks many workspace-scope tokens for one base in one statement on D1 too.
    const workspace = (await call(target, 'GET', '/api/v1/workspaces', { token: admin })).body.workspaces[0]
      .id;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(target, 'POST', '/api/v1/api-tokens', {
          token: admin,
          body: {
            name: `ws-${i}`,
            permission: 'r',
            resources: { type: 'workspace', workspace_id: workspace },
          },
        }),
      ),
    );
    const killed = await call(target, 'POST', '/api/v1/kill-switch', {
      token: admin,
      body: { base_uuid: base },
    });
    expect(killed.status, JSON.stringify(killed.body)).toBe(200);
    expect(killed.body.base_access_ended).toBe(40);
  });

  it("publishes a signed-out Account-Token's temporary API-Tokens to the feed on D1 (issue 13, class 4)", async () => {
    const session = (
      await call(target, 'POST', '/api/v1/account-tokens', {
        body: { email: target.admin.email, password: target.admin.password },
      })
    ).body.token as string;
    const workspace = (await call(target, 'GET', '/api/v1/workspaces', { token: session })).body.workspaces[0]
      .id;
    await call(target, 'POST', '/api/v1/bases', { token: session, body: { name: 'd1-temp' } });
    const temps: string[] = [];
    for (let i = 0; i < 2; i++) {
      const minted = await call(
        target,
        'GET',
        `/api/v2.1/workspace/${workspace}/dtable/d1-temp/temp-api-token/`,
        {
          headers: { authorization: `Token ${session}` },
        },
      );
      expect(minted.status).toBe(200);
      temps.push(minted.body.api_token);
    }
    const jtis = temps.map(
      (temp) => JSON.parse(Buffer.from(temp.split('.')[1]!, 'base64url').toString()).jti,
    );
    const exchanged = await call(target, 'GET', '/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${temps[0]}` },
    });
    expect(exchanged.status).toBe(200);
    const me = (await call(target, 'GET', '/api/v1/me', { token: session })).body;
    expect(
      (await call(target, 'DELETE', `/api/v1/account-tokens/${me.account_token_id}`, { token: session }))
        .status,
    ).toBe(204);
    const values = (await call(target, 'GET', '/api/v1/revocations')).body.revocations.map(
      (entry: { value: string }) => entry.value,
    );
    expect(values).toEqual(expect.arrayContaining([me.account_token_id, ...jtis]));
  });

  it('orders exchanges and revocations by feed position on D1, not by clock (issue 13, class 2)', async () => {
    const session = (
      await call(target, 'POST', '/api/v1/account-tokens', {
        body: { email: target.admin.email, password: target.admin.password },
      })
    ).body.token as string;
    const base = (await call(target, 'POST', '/api/v1/bases', { token: session, body: { name: 'd1-gen' } }))
      .body.uuid as string;
    const created = await call(target, 'POST', `/api/v1/bases/${base}/api-tokens`, {
      token: session,
      body: { name: 'racer', permission: 'rw' },
    });
    const token = created.body as { id: string; token: string };
    const revocations = createRevocationList({
      url: `${target.origin}/api/v1/revocations`,
      fetch: (input, init) => target.fetch(new Request(String(input), init)),
    });
    const jwks = (await call(target, 'GET', '/.well-known/jwks.json')).body;
    const verifier = createBaseTokenVerifier({ issuer: target.origin, jwks, revocations, cache: false });
    const verdict = async (jwt: string) => {
      await revocations.sync();
      return verifier.verify(jwt, { baseUuid: base }).then(
        () => 'accepted',
        (error: { code?: string }) => error.code,
      );
    };
    const exchange = () => call(target, 'POST', '/api/v1/base-tokens', { token: token.token });
    const toggle = (enabled: boolean) =>
      call(target, 'PATCH', `/api/v1/api-tokens/${token.id}`, { token: session, body: { enabled } });

    // Disabled and re-enabled, then exchanged, within well under a second: the new one works.
    const before = (await exchange()).body.base_token as string;
    expect((await toggle(false)).status).toBe(200);
    expect((await toggle(true)).status).toBe(200);
    const after = (await exchange()).body.base_token as string;
    expect(await verdict(before)).toBe('token_revoked');
    expect(await verdict(after)).toBe('accepted');

    // Exchanges racing a disable: whichever order D1 ran them in, a Base-Token that came out is refused
    // once the disable is in the feed (it read the token before the disable committed).
    for (let round = 0; round < 5; round++) {
      const [raced, disabled] = await Promise.all([exchange(), toggle(false)]);
      expect(disabled.status).toBe(200);
      if (raced.status === 201) expect(await verdict(raced.body.base_token)).toBe('token_revoked');
      else expect(raced.body.error.code).toBe('token_disabled');
      expect((await toggle(true)).status).toBe(200);
      expect(await verdict((await exchange()).body.base_token)).toBe('accepted');
    }
  });

  it('a weak TOKENLADDER_ADMIN_PASSWORD left in the environment does not stop a Worker whose D1 has users', async () => {
    const response = await call(run.target('weak-admin-password'), 'GET', '/api/v1/ping');
    expect(response.status).toBe(200);
    expect(run.logs.join('\n')).toContain('TOKENLADDER_ADMIN_PASSWORD ignored');
  });

  it.each([
    ['no-kek', 'TOKENLADDER_KEK: required on Workers'],
    ['costly-scrypt', 'TOKENLADDER_SCRYPT: scrypt parameters out of bounds'],
    ['wrong-kek', 'TOKENLADDER_KEK: it does not decrypt the signing keys stored in D1'],
    ['unmigrated', 'the D1 database is not migrated'],
  ])('%s: answers a fixed 503 and logs why', async (variant, logged) => {
    const response = await call(run.target(variant), 'GET', '/.well-known/jwks.json');
    expect([response.status, response.body, response.headers.get('retry-after')]).toEqual([
      503,
      UNAVAILABLE,
      '30',
    ]);
    expect(run.logs.join('\n')).toContain(logged);
  });

  it('built the app once for all those requests: it is memoised per env object', () => {
    // Two Workers start: the main one (dozens of requests) and its weak-admin-password twin (one).
    expect(run.logs.filter((line) => line.includes('"tokenladder ready"'))).toHaveLength(2);
  });

  it('keeps users, tokens and keys across a workerd restart on the persisted D1', async () => {
    const jwksBefore = (await call(target, 'GET', '/.well-known/jwks.json')).body;
    await run.mf.dispose();
    run = await startWorkerd(dir);
    target = run.target();

    expect((await call(target, 'GET', '/.well-known/jwks.json')).body).toEqual(jwksBefore);
    await verifyBaseToken(target, chain.baseToken, chain.baseUuid);
    expect((await call(target, 'GET', '/api/v1/me', { token: chain.accountToken })).status).toBe(200);
    const exchange = await call(target, 'POST', '/api/v1/base-tokens', {
      token: chain.accountToken,
      body: { base_uuid: chain.baseUuid },
    });
    expect(exchange.status).toBe(201);
    await verifyBaseToken(target, exchange.body.base_token, chain.baseUuid);
    expect(run.logs.join('\n')).not.toContain('created the first system admin');
  }, 30_000);
});
