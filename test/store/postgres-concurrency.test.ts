// Several instances on one PostgreSQL database: each "instance" is its own createPostgresStore (its own
// pool) with its own audit log and key ring, as separate processes would have. What must hold across
// them: the feed's seq commits in order (a poller never skips), every revocation lands, the audit chain
// stays one verifiable chain, throttle limits are exact, one `next` key, one current key, one admin.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin } from '../../src/accounts/users';
import { createAuditLog, type AuditLog } from '../../src/audit/log';
import { verifyAuditChain } from '../../src/audit/query';
import type { AppError } from '../../src/errors';
import { generateKekText, importKek } from '../../src/keys/kek';
import { createKeyRing, ensureSigningKey } from '../../src/keys/signing-keys';
import { latestRevocation, readRevocations } from '../../src/revocations/feed';
import { revocationStatements } from '../../src/revocations/revoke';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { createPostgresListener } from '../../src/store/postgres-listen';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres';
import { hitCounter } from '../../src/throttle/counters';
import { postgresUnavailable } from '../../src/store/unavailable';
import { frozenClock, silentLog, testConfig, testPostgresStore } from '../helpers/app';
import { hasPostgres } from '../helpers/postgres';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const INSTANCES = 4;

interface Instance {
  store: PostgresStore;
  audit: AuditLog;
}

describe.skipIf(!(await hasPostgres()))('several instances on one PostgreSQL database', () => {
  let database: Awaited<ReturnType<typeof testPostgresStore>>;
  const stores: PostgresStore[] = [];
  const clock = frozenClock();
  const config = testConfig();

  /** A new instance: its own pool, and an audit log that takes the head lock unless `lock` is false. */
  const instance = (lock = true): Instance => {
    const store = createPostgresStore({ url: database.database.url, poolSize: 3 });
    stores.push(store);
    const audit = createAuditLog({
      db: store.db,
      atomic: store.atomic,
      // The mutation check: without the lock the audit log falls back to SQLite's optimistic path.
      ...(lock && { atomicAfter: store.atomicAfter }),
      clock,
      sha256,
      retentionSeconds: null,
    });
    return { store, audit };
  };

  beforeAll(async () => {
    database = await testPostgresStore();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await database?.close();
  });

  const reset = () =>
    database.store.atomic([
      database.store.db.deleteFrom('revocations'),
      database.store.db.deleteFrom('audit_events'),
    ]);

  /**
   * `count` revocations spread over the instances, all at once, while a poller reads the feed from
   * its cursor the way a verifier does. Answers what failed, what landed and what the poller saw.
   */
  async function revokeConcurrently(instances: Instance[], count: number) {
    const deps = { db: database.store.db, clock, config };
    const seen = new Set<string>();
    let done = false;
    let resets = 0;
    const poller = (async () => {
      let cursor = 0;
      for (;;) {
        const finished = done;
        const latest = await latestRevocation(deps);
        const page = await readRevocations(deps, cursor, latest);
        if (page.reset) resets += 1;
        for (const entry of page.entries) seen.add(entry.value);
        cursor = page.cursor;
        // One more full read after the writers finished, then stop.
        if (finished && page.complete) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const expiresAt = Math.floor(clock.now() / 1000) + 3600;
    const outcomes = await Promise.allSettled(
      Array.from({ length: count }, (_, index) => {
        const { audit, store } = instances[index % instances.length]!;
        const value = `jti-${index}`;
        return audit.commit(
          revocationStatements({ db: store.db, clock, config }, [
            {
              kind: 'jti',
              value,
              clientId: `source-${index % 7}`,
              change: 'base_token_revoked',
              tokenExpiresAt: expiresAt,
            },
          ]),
          [{ action: 'base_token.revoke', targetId: value }],
        );
      }),
    );
    done = true;
    await poller;
    const rows = await database.store.db
      .selectFrom('revocations')
      .select(['seq', 'value'])
      .orderBy('seq')
      .execute();
    const expected = Array.from({ length: count }, (_, index) => `jti-${index}`);
    return {
      failed: outcomes.filter((outcome) => outcome.status === 'rejected').length,
      rows,
      missing: expected.filter((value) => !rows.some((row) => row.value === value)),
      unseen: expected.filter((value) => !seen.has(value)),
      resets,
    };
  }

  it('200 revocations at once over 4 instances: every one lands, seq is contiguous, a poller sees every entry, the chain verifies', async () => {
    await reset();
    const instances = Array.from({ length: INSTANCES }, () => instance());
    const result = await revokeConcurrently(instances, 200);
    expect(result.failed).toBe(0);
    expect(result.missing).toEqual([]);
    expect(result.rows.map((row) => row.seq)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    expect(result.unseen).toEqual([]);
    expect(result.resets).toBe(0);
    expect(await verifyAuditChain(database.store.db, sha256)).toMatchObject({ ok: true, checked: 200 });
  });

  it('mutation check: without the audit head lock the same run loses revocations (the test sees the bug)', async () => {
    await reset();
    const instances = Array.from({ length: INSTANCES }, () => instance(false));
    const result = await revokeConcurrently(instances, 200);
    // Two writers compute the same max(seq) + 1: one fails (and would be swallowed as "already
    // revoked" by the old unique-violation check), or commits out of order behind the poller.
    expect(result.failed + result.missing.length + result.unseen.length).toBeGreaterThan(0);
  });

  it('audited writes and grouped records from every instance at once form one chain', async () => {
    await reset();
    const instances = Array.from({ length: INSTANCES }, () => instance());
    await Promise.all(
      instances.flatMap(({ audit, store }, n) =>
        Array.from({ length: 40 }, (_, index) =>
          index % 4 === 0
            ? audit.commit(
                [
                  store.db
                    .insertInto('settings')
                    .values({ key: `chain:${n}:${index}`, value: 'v', updated_at: 1 }),
                ],
                [{ action: 'base.create', targetId: `${n}:${index}` }],
              )
            : audit.record({ action: 'base.create', targetId: `${n}:${index}` }),
        ),
      ),
    );
    expect(await verifyAuditChain(database.store.db, sha256)).toMatchObject({
      ok: true,
      checked: INSTANCES * 40,
      first: 1,
      last: INSTANCES * 40,
    });
  });

  it('throttle counters are exact across instances: of 4 × 25 hits at once, exactly the limit pass', async () => {
    const instances = Array.from({ length: INSTANCES }, () => instance());
    const limit = { limit: 37, windowSeconds: 600 };
    const states = await Promise.all(
      instances.flatMap(({ store }) =>
        Array.from({ length: 25 }, () => hitCounter({ db: store.db, clock }, 'exact:key', limit)),
      ),
    );
    expect(states.filter((state) => state.allowed)).toHaveLength(37);
    expect(states.map((state) => state.hits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, index) => index + 1),
    );
  });

  it('signing keys: of rotations at once one wins (one `next` key), racing promotions settle on one current key, a push reloads another instance', async () => {
    const kek = await importKek(generateKekText());
    const instances = Array.from({ length: INSTANCES }, () => instance());
    await Promise.all(instances.map(({ store }) => ensureSigningKey(store.db, kek, clock)));
    const rings = instances.map(({ store, audit }) =>
      createKeyRing({ db: store.db, atomic: store.atomic, audit, kek, clock, retiredKeyGraceSeconds: 3600 }),
    );
    const db = database.store.db;
    const states = async () =>
      (await db.selectFrom('signing_keys').select('state').execute()).map((row) => row.state).sort();
    expect(await states()).toEqual(['current']);
    const first = (await rings[0]!.current()).kid;

    const rotations = await Promise.allSettled(
      rings.map((ring) => ring.rotate({ activateAfterSeconds: 60, revokeOld: false })),
    );
    expect(rotations.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of rotations)
      if (outcome.status === 'rejected') expect((outcome.reason as AppError).code).toBe('conflict');
    expect(await states()).toEqual(['current', 'next']);

    clock.advance(61);
    const kids = await Promise.all(rings.map(async (ring) => (await ring.current()).kid));
    expect(new Set(kids).size).toBe(1);
    expect(kids[0]).not.toBe(first);
    expect(await states()).toEqual(['current', 'retired']);

    // An emergency rotation on instance 0 reaches instance 1 through NOTIFY: the clock is frozen, so
    // neither the periodic reload nor the 1 s current-key check can be what reloads it.
    const listener = createPostgresListener({ url: database.database.url, log: silentLog });
    try {
      const pushes = vi.fn(() => rings[1]!.reload());
      listener.onKeys(pushes);
      await vi.waitFor(() => expect(listener.listening()).toBe(true));
      const reached = pushes.mock.calls.length;
      const replaced = await rings[0]!.rotate({ activateAfterSeconds: 0, revokeOld: true });
      await vi.waitFor(() => expect(pushes.mock.calls.length).toBeGreaterThan(reached));
      expect((await rings[1]!.current()).kid).toBe(replaced.kid);
      expect((await rings[1]!.jwks()).keys.map((key) => key.kid)).not.toContain(kids[0]);
    } finally {
      await listener.close();
    }
  });

  it('the LISTEN connection wakes on feed changes and, after losing its connection, reconnects and wakes once more', async () => {
    const listener = createPostgresListener({
      url: database.database.url,
      log: silentLog,
      minBackoffMillis: 20,
    });
    const wakes = vi.fn();
    listener.onRevocations(wakes);
    try {
      await vi.waitFor(() => expect(listener.listening()).toBe(true));
      // On connect every handler is called once (whatever was missed before is re-read).
      await vi.waitFor(() => expect(wakes).toHaveBeenCalledTimes(1));
      const { audit, store } = instance();
      await audit.commit(
        revocationStatements({ db: store.db, clock, config }, [
          {
            kind: 'jti',
            value: 'listen-1',
            clientId: 's',
            change: 'base_token_revoked',
            tokenExpiresAt: 4e9,
          },
        ]),
        [{ action: 'base_token.revoke', targetId: 'listen-1' }],
      );
      await vi.waitFor(() => expect(wakes).toHaveBeenCalledTimes(2));
      // The server ends the connection (a restart, a failover): the listener comes back by itself.
      const admin = new pg.Client({ connectionString: database.database.url });
      await admin.connect();
      try {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
        );
      } finally {
        await admin.end();
      }
      await vi.waitFor(() => expect(wakes.mock.calls.length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
      await vi.waitFor(() => expect(listener.listening()).toBe(true), { timeout: 10_000 });
    } finally {
      await listener.close();
    }
  });

  it('a connection the server ends mid-transaction fails that write as "unavailable" (503), the instance lives on', async () => {
    const { store } = instance();
    const admin = new pg.Client({ connectionString: database.database.url });
    await admin.connect();
    try {
      const write = store.atomicAfter([store.db.selectFrom('settings').select('key')], async () => {
        // Between two statements (no query running), as under idle_in_transaction_session_timeout or
        // a server restart: the 'error' event must not go unhandled (it would end the process).
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        return [store.db.insertInto('settings').values({ key: 'ended:1', value: 'v', updated_at: 1 })];
      });
      const error = await write.then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(postgresUnavailable(error), String(error)).toBe(true);
      expect(
        await database.store.db.selectFrom('settings').select('key').where('key', '=', 'ended:1').execute(),
      ).toEqual([]);
      // The pool dropped the dead connection: the next write works.
      await store.atomic([
        store.db.insertInto('settings').values({ key: 'ended:2', value: 'v', updated_at: 1 }),
      ]);
    } finally {
      await admin.end();
    }
  });

  it.each([
    ['the same admin email', (_: number) => 'first@example.com'],
    // An operator's slip: the instances were given different TOKENLADDER_ADMIN_EMAIL values.
    ['different admin emails', (index: number) => `first-${index}@example.com`],
  ])(
    'first start: instances starting together on an empty database make one admin and one signing key (%s)',
    async (_, emailOf) => {
      const fresh = await testPostgresStore();
      const starting: PostgresStore[] = [];
      try {
        const kek = await importKek(generateKekText());
        await Promise.all(
          Array.from({ length: INSTANCES }, async (_, index) => {
            const store = createPostgresStore({ url: fresh.database.url, poolSize: 2 });
            starting.push(store);
            const deps = await createNodeDeps({ store, kek, config, clock, log: silentLog });
            await bootstrapAdmin(deps, emailOf(index), 'a perfectly fine passphrase');
          }),
        );
        const db = fresh.store.db;
        const users = await db.selectFrom('users').select(['email', 'role']).execute();
        expect(users).toHaveLength(1);
        expect(users[0]).toMatchObject({
          email: expect.stringMatching(/^first(-\d)?@example\.com$/),
          role: 'system_admin',
        });
        expect(await db.selectFrom('signing_keys').select('state').execute()).toEqual([{ state: 'current' }]);
        expect(await db.selectFrom('workspaces').select('id').execute()).toHaveLength(1);
      } finally {
        for (const store of starting) await store.close();
        await fresh.close();
      }
    },
  );
});
