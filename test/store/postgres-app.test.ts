// The app over PostgreSQL through HTTP: readiness, and a database that cannot answer now (a lock held
// past lock_timeout, a server that refuses connections) answers 503 with Retry-After, never 500,
// with nothing written.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { generateKekText, importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { createPostgresStore } from '../../src/store/postgres';
import { silentLog, testApp, testConfig, type TestApp } from '../helpers/app';
import { LAST_USED_COLUMNS } from '../helpers/db-digest';
import { errorBody } from '../helpers/errors';
import { hasPostgres } from '../helpers/postgres';

describe.skipIf(!(await hasPostgres()))('the app on PostgreSQL', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await testApp({ store: 'postgres' });
    admin = await t.login();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is ready: the database answers, its migrations are current, a key is loaded', async () => {
    const response = await t.call('GET', '/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready' });
  });

  it('an audited write that waits past lock_timeout for the audit head answers 503 with Retry-After, writing nothing', async () => {
    // Another instance holds the audit head (in an open transaction, as a stuck writer would).
    const holder = new pg.Client({ connectionString: t.databaseUrl! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM audit_lock WHERE id = 1 FOR UPDATE');
      const before = await t.digest({ ignoreTables: [], ignoreColumns: LAST_USED_COLUMNS });
      const response = await t.call('POST', '/api/v1/bases', { token: admin, body: { name: 'blocked' } });
      expect(response.status, JSON.stringify(response.body)).toBe(503);
      expect(response.body).toEqual(errorBody('service_unavailable'));
      expect(response.headers.get('retry-after')).toBe('1');
      await holder.query('ROLLBACK');
      expect(await t.digest({ ignoreTables: [], ignoreColumns: LAST_USED_COLUMNS })).toBe(before);
    } finally {
      await holder.end();
    }
    // Once the lock is free the same write goes through.
    const again = await t.call('POST', '/api/v1/bases', { token: admin, body: { name: 'blocked' } });
    expect(again.status).toBe(201);
  });

  it('a Base-Token revocation while the keys cannot be read answers 503, not a silent "received" that lost it', async () => {
    const base = await t.createBase(admin, 'revocable');
    const api = await t.createApiToken(admin, base, 'for revoke', 'r');
    const exchanged = await t.call('POST', '/api/v1/base-tokens', {
      headers: { authorization: `Token ${api.token}` },
      body: { base_uuid: base },
    });
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(201);
    // The key ring re-checks its current key once the clock moved on; another session holds the keys
    // table (as a migration or a stuck writer would), so that read waits past lock_timeout.
    t.clock.advance(5);
    const before = await t.digest({ ignoreTables: [], ignoreColumns: LAST_USED_COLUMNS });
    const holder = new pg.Client({ connectionString: t.databaseUrl! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE signing_keys IN ACCESS EXCLUSIVE MODE');
      const response = await t.call('POST', '/api/v1/base-tokens/revoke', {
        body: { token: exchanged.body.base_token },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      await holder.query('ROLLBACK');
      expect(await t.digest({ ignoreTables: [], ignoreColumns: LAST_USED_COLUMNS })).toBe(before);
    } finally {
      await holder.end();
    }
    // The write goes through the audit head lock (atomicAfter) and still wakes this app's streams.
    const wakes = t.deps.feedWakeups.wakes;
    const retried = await t.call('POST', '/api/v1/base-tokens/revoke', {
      body: { token: exchanged.body.base_token },
    });
    expect(retried.status).toBe(200);
    expect(t.deps.feedWakeups.wakes).toBeGreaterThan(wakes);
    const jti = JSON.parse(Buffer.from(exchanged.body.base_token.split('.')[1], 'base64url').toString()).jti;
    expect(
      await t.deps.db.selectFrom('revocations').select('value').where('kind', '=', 'jti').execute(),
    ).toEqual([{ value: jti }]);
  });

  it('a NUL in an id (SQLite stores it, PostgreSQL text cannot) is refused with 400, not a 500', async () => {
    // A SeaTable path whose workspace id reaches a query unchecked (found by test/security/fuzz.test.ts).
    const response = await t.call('GET', '/api/v2.1/workspace/%00/dtable/x/api-tokens/', { token: admin });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
  });

  it('a database server that refuses connections answers 503 with Retry-After, not 500', async () => {
    // A second instance over the same data whose server went away: port 1 refuses at once.
    const down = createPostgresStore({
      url: 'postgres://postgres@127.0.0.1:1/nothing',
      connectionTimeoutMillis: 1000,
    });
    try {
      const deps = await createNodeDeps({
        store: { db: down.db, atomic: down.atomic, atomicAfter: down.atomicAfter },
        kek: await importKek(generateKekText()),
        config: testConfig(),
        log: silentLog,
      }).catch((error: unknown) => error);
      // Start-up itself fails on an unreachable database (ensureSigningKey): the error says so.
      expect(String(deps)).toMatch(/ECONNREFUSED|connect/);
      const app = createApp({ ...t.deps, db: down.db, atomic: down.atomic });
      const response = await app.request('/readyz');
      expect(response.status).toBe(503);
      const me = await app.request('/api/v1/me', { headers: { authorization: `Bearer ${admin}` } });
      expect(me.status).toBe(503);
      expect(me.headers.get('retry-after')).toBe('1');
      expect(await me.json()).toEqual(errorBody('service_unavailable'));
    } finally {
      await down.close();
    }
  });
});
