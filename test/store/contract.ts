// The store contract, written once: what the domain code relies on from `db`, `atomic` and (PostgreSQL)
// `atomicAfter`, whichever database is behind them. test/store/contract.test.ts runs it on SQLite
// (better-sqlite3) and PostgreSQL, test/workers/store-contract.test.ts on D1 inside workerd. Where a
// database legitimately differs, CAPABILITIES says so per store and the tests read it from there.
import { createHash } from 'node:crypto';
import { sql, type Compilable, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../src/audit/chain';
import { createAuditLog } from '../../src/audit/log';
import { verifyAuditChain } from '../../src/audit/query';
import { readRevocations, latestRevocation } from '../../src/revocations/feed';
import { revocationStatements } from '../../src/revocations/revoke';
import { isUniqueViolation, UNIQUE, type Atomic, type AtomicAfter } from '../../src/store/atomic';
import { dialectOf, type SqlDialect } from '../../src/store/dialect';
import { inIdList } from '../../src/store/id-list';
import { insertIfExists } from '../../src/store/insert-if';
import type { Database as Schema } from '../../src/store/schema';
import {
  counterStateOf,
  hitCounter,
  hitCounterStatement,
  peekCounter,
  pruneCounters,
  refundCounterStatement,
  resetCounter,
} from '../../src/throttle/counters';
import { frozenClock, testConfig } from '../helpers/app';

export type StoreKind = 'sqlite' | 'postgres' | 'd1';

export interface StoreFixture {
  db: Kysely<Schema>;
  atomic: Atomic;
  atomicAfter?: AtomicAfter;
  close(): Promise<void>;
}

/** How a store legitimately differs from the others; every difference the contract allows is here. */
export interface StoreCapabilities {
  /** The SQL its Kysely instance compiles (D1 is SQLite's). */
  dialect: SqlDialect;
  /**
   * Interactive transactions: Kysely's `transaction()`, and `atomicAfter` (PostgreSQL's store offers
   * it for the audit head lock). D1 has none: its `transaction()` throws, naming `atomic`.
   */
  interactiveTransactions: boolean;
  atomicAfter: boolean;
  /** Bound parameters one statement takes at most (D1: 100; SQLite's build: 32 766; PostgreSQL: 65 535). */
  maxParameters: number;
  /** The error one more parameter gets. */
  tooManyParameters: RegExp;
  /**
   * How a unique violation reads: SQLite's message (`UNIQUE constraint failed: t.c`), D1's (the same
   * inside `D1_ERROR: … : SQLITE_CONSTRAINT`), PostgreSQL's SQLSTATE 23505 with the constraint name.
   */
  uniqueViolation: { message: RegExp } | { code: string };
}

export const CAPABILITIES: Record<StoreKind, StoreCapabilities> = {
  sqlite: {
    dialect: 'sqlite',
    interactiveTransactions: true,
    atomicAfter: false,
    maxParameters: 32_766,
    tooManyParameters: /^too many SQL variables$/,
    uniqueViolation: { message: /^UNIQUE constraint failed: settings\.key$/ },
  },
  postgres: {
    dialect: 'postgres',
    interactiveTransactions: true,
    atomicAfter: true,
    maxParameters: 65_535,
    // The protocol counts parameters in 16 bits: node-postgres sends 65 536 as 0, the server refuses.
    tooManyParameters: /^bind message supplies 0 parameters, but prepared statement "" requires 65536$/,
    uniqueViolation: { code: '23505' },
  },
  d1: {
    dialect: 'sqlite',
    interactiveTransactions: false,
    atomicAfter: false,
    maxParameters: 100,
    tooManyParameters: /^D1_ERROR: too many SQL variables/,
    uniqueViolation: { message: /^D1_ERROR: UNIQUE constraint failed: settings\.key: SQLITE_CONSTRAINT/ },
  },
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const setting = (key: string, value = 'v') => ({ key, value, updated_at: 1 });

/** The first error atomic reported, or a failure when it resolved. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the write to fail');
}

/**
 * Defines the store contract's tests for one store, inside the caller's describe: `open` is called once
 * before them (a fresh, migrated database) and the store is closed after them.
 */
export function defineStoreContract(kind: StoreKind, open: () => Promise<StoreFixture>): void {
  const can = CAPABILITIES[kind];
  let store: StoreFixture;
  beforeAll(async () => {
    store = await open();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  const countSettings = async (prefix: string) =>
    Number(
      (
        await store.db
          .selectFrom('settings')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('key', 'like', `${prefix}%`)
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Settings rows as INSERTs of at most `maxParameters` parameters each (one statement off D1). */
  const insertSettings = (keys: readonly string[]): Compilable[] => {
    const perInsert = Math.floor(can.maxParameters / Object.keys(setting('')).length);
    const statements: Compilable[] = [];
    for (let index = 0; index < keys.length; index += perInsert)
      statements.push(
        store.db
          .insertInto('settings')
          .values(keys.slice(index, index + perInsert).map((key) => setting(key))),
      );
    return statements;
  };

  it('knows its dialect', () => {
    expect(dialectOf(store.db)).toBe(can.dialect);
  });

  it(`interactive transactions: ${can.interactiveTransactions ? 'transaction() commits and rolls back' : 'transaction() refuses, naming atomic'}; atomicAfter ${can.atomicAfter ? 'offered' : 'absent'}`, async () => {
    const { db } = store;
    expect(store.atomicAfter !== undefined).toBe(can.atomicAfter);
    if (!can.interactiveTransactions) {
      await expect(
        db.transaction().execute((trx) => trx.insertInto('settings').values(setting('t:refused')).execute()),
      ).rejects.toThrow(/no interactive transactions: use atomic/);
      expect(await countSettings('t:')).toBe(0);
      return;
    }
    await db.transaction().execute((trx) => trx.insertInto('settings').values(setting('t:1')).execute());
    const error = await failure(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('settings').values(setting('t:2')).execute();
        throw new Error('rolled back');
      }),
    );
    expect(error).toEqual(new Error('rolled back'));
    expect(await countSettings('t:')).toBe(1);
  });

  it(`binds up to ${can.maxParameters} parameters in one statement, and refuses one more`, async () => {
    const inList = (count: number) =>
      sql<{ n: number }>`SELECT count(*) AS n FROM settings WHERE key IN (${sql.join(
        Array.from({ length: count }, (_, index) => `p:${index}`),
      )})`.execute(store.db);
    expect(Number((await inList(can.maxParameters)).rows[0]!.n)).toBe(0);
    await expect(inList(can.maxParameters + 1)).rejects.toThrow(can.tooManyParameters);
  });

  it('atomic: per-statement affected rows, RETURNING rows, and 0 for a SELECT', async () => {
    const { db } = store;
    const results = await store.atomic([
      db.insertInto('settings').values([setting('a:1'), setting('a:2'), setting('a:3')]),
      db.updateTable('settings').set({ value: 'w' }).where('key', 'in', ['a:1', 'a:2']),
      db.selectFrom('settings').select('key').where('key', 'like', 'a:%').orderBy('key'),
      db.deleteFrom('settings').where('key', '=', 'a:3').returning('key'),
      db.updateTable('settings').set({ value: 'x' }).where('key', '=', 'nothing'),
    ]);
    expect(results.map((result) => result.numAffectedRows)).toEqual([3, 2, 0, 1, 0]);
    expect(results[2]!.rows).toEqual([{ key: 'a:1' }, { key: 'a:2' }, { key: 'a:3' }]);
    expect(results[3]!.rows).toEqual([{ key: 'a:3' }]);
    expect(await store.atomic([])).toEqual([]);
  });

  it('atomic: all or nothing, and the error is the first statement that failed', async () => {
    const { db } = store;
    await store.atomic([db.insertInto('settings').values(setting('b:taken'))]);
    const error = await failure(
      store.atomic([
        db.insertInto('settings').values(setting('b:new')),
        db.insertInto('settings').values(setting('b:taken')),
        // Would fail too (NOT NULL): never reached, and not the error reported.
        db.insertInto('settings').values({ key: 'b:null', value: null as unknown as string, updated_at: 1 }),
      ]),
    );
    expect(isUniqueViolation(error)).toBe(true);
    if ('code' in can.uniqueViolation) expect(error).toMatchObject({ code: can.uniqueViolation.code });
    else expect((error as Error).message).toMatch(can.uniqueViolation.message);
    expect(await countSettings('b:')).toBe(1);
    // The store is usable afterwards (PostgreSQL: the connection went back rolled back, not aborted).
    await store.atomic([db.insertInto('settings').values(setting('b:after'))]);
    expect(await countSettings('b:')).toBe(2);
  });

  it('tells unique constraints apart: revocations_jti, the feed seq, the audit seq', async () => {
    const { db } = store;
    const entry = (seq: number, value: string) => ({
      seq,
      kind: 'jti' as const,
      value,
      base_id: null,
      client_id: 'src',
      revoked_at: 1,
      expires_at: 4_000_000_000,
      reason: 'revoked',
      gen: null,
    });
    await store.atomic([db.insertInto('revocations').values(entry(1, 'jti-1'))]);
    const sameJti = await failure(store.atomic([db.insertInto('revocations').values(entry(2, 'jti-1'))]));
    const sameSeq = await failure(store.atomic([db.insertInto('revocations').values(entry(1, 'jti-2'))]));
    expect(isUniqueViolation(sameJti, UNIQUE.revocationsJti)).toBe(true);
    expect(isUniqueViolation(sameSeq)).toBe(true);
    expect(isUniqueViolation(sameSeq, UNIQUE.revocationsJti)).toBe(false);
    expect(isUniqueViolation(sameJti, UNIQUE.auditSeq)).toBe(false);
    const row = {
      seq: 1,
      at: 1,
      action: 'x',
      outcome: 'success' as const,
      actor_user_id: null,
      actor_token_id: null,
      subject_user_id: null,
      base_id: null,
      target_id: null,
      client_ip: null,
      details: null,
      prev_hash: GENESIS_HASH,
      hash: 'h',
    };
    await store.atomic([db.insertInto('audit_events').values(row)]);
    const sameAudit = await failure(store.atomic([db.insertInto('audit_events').values(row)]));
    expect(isUniqueViolation(sameAudit, UNIQUE.auditSeq)).toBe(true);
    expect(isUniqueViolation(new Error('something else'))).toBe(false);
    await store.atomic([db.deleteFrom('revocations'), db.deleteFrom('audit_events')]);
  });

  it('the throttle counter: one upsert per hit, a new window after the old one ends, prune by prefix', async () => {
    const limit = { limit: 3, windowSeconds: 60 };
    const hit = async (key: string, now: number) => {
      const [result] = await store.atomic([hitCounterStatement(store.db, key, limit, now)]);
      return counterStateOf(result!.rows[0] as { hits: number; window_start: number }, limit, now);
    };
    const states = [];
    for (let i = 0; i < 4; i++) states.push(await hit('c:key', 1000 + i));
    expect(states.map((state) => [state.hits, state.allowed])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    expect(states[3]!.retryAfterSeconds).toBe(57);
    expect(await hit('c:key', 1060)).toMatchObject({ hits: 1, allowed: true, windowStart: 1060 });
    await hit('c:other', 1000);
    await hit('d:key', 1000);
    const clock = { now: () => 1200 * 1000 };
    expect(await pruneCounters({ db: store.db, clock }, 'c:', 60)).toBe(2);
    expect(
      (await store.db.selectFrom('throttle_counters').select('key').execute()).map((row) => row.key),
    ).toEqual(['d:key']);
  });

  it('the throttle counter outside atomic: hitCounter, peekCounter, a refund in its own window only, reset', async () => {
    const limit = { limit: 2, windowSeconds: 60 };
    let now = 5000;
    const deps = { db: store.db, clock: { now: () => now * 1000 } };
    const peek = () => peekCounter(deps, 'k:key', limit);
    expect(await peek()).toEqual({ hits: 0, allowed: true, retryAfterSeconds: 0, windowStart: null });
    expect(await hitCounter(deps, 'k:key', limit)).toMatchObject({
      hits: 1,
      allowed: true,
      windowStart: 5000,
    });
    now = 5010;
    expect(await hitCounter(deps, 'k:key', limit)).toMatchObject({
      hits: 2,
      allowed: true,
      windowStart: 5000,
    });
    expect(await peek()).toEqual({ hits: 2, allowed: false, retryAfterSeconds: 50, windowStart: 5000 });
    const refunds = await store.atomic([
      refundCounterStatement(store.db, 'k:key', 4999),
      refundCounterStatement(store.db, 'k:key', 5000),
    ]);
    expect(refunds.map((result) => result.numAffectedRows)).toEqual([0, 1]);
    expect(await peek()).toMatchObject({ hits: 1, allowed: true, windowStart: 5000 });
    await resetCounter(deps, 'k:key');
    expect(await peek()).toMatchObject({ hits: 0, windowStart: null });
    expect(
      await store.db.selectFrom('throttle_counters').select('key').where('key', '=', 'k:key').execute(),
    ).toEqual([]);
  });

  it.runIf(can.atomicAfter)(
    "atomicAfter: build reads the first statements' results in the same transaction; all or nothing",
    async () => {
      const { db } = store;
      const atomicAfter = store.atomicAfter!;
      const settingValue = async (key: string) =>
        (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
      await store.atomic([db.insertInto('settings').values(setting('u:1', '7'))]);
      const results = await atomicAfter(
        [db.selectFrom('settings').select('value').where('key', '=', 'u:1')],
        ([found]) => [
          db
            .insertInto('settings')
            .values(setting('u:2', `${(found!.rows[0] as { value: string }).value}+1`)),
        ],
      );
      expect(results.map((result) => result.numAffectedRows)).toEqual([1]);
      expect(await settingValue('u:2')).toBe('7+1');
      const duplicate = await failure(
        atomicAfter([db.insertInto('settings').values(setting('u:3'))], () => [
          db.insertInto('settings').values(setting('u:1')),
        ]),
      );
      expect(isUniqueViolation(duplicate)).toBe(true);
      const thrown = await failure(
        atomicAfter([db.insertInto('settings').values(setting('u:4'))], () => {
          throw new Error('build failed');
        }),
      );
      expect(thrown).toEqual(new Error('build failed'));
      expect(await countSettings('u:')).toBe(2);
    },
  );

  it('insertIfExists writes its row only when the condition holds inside the write', async () => {
    const { db } = store;
    const exists = (key: string) => db.selectFrom('settings').select('key').where('key', '=', key);
    const results = await store.atomic([
      db.insertInto('settings').values(setting('e:anchor')),
      insertIfExists(db, 'settings', setting('e:yes'), exists('e:anchor')),
      insertIfExists(db, 'settings', setting('e:no'), exists('e:missing')),
    ]);
    expect(results.map((result) => result.numAffectedRows)).toEqual([1, 1, 0]);
    expect(await countSettings('e:')).toBe(2);
  });

  it('inIdList matches 0, 1 and 500 ids as one parameter', async () => {
    const { db } = store;
    const keys = Array.from({ length: 600 }, (_, index) => `f:${String(index).padStart(4, '0')}`);
    await store.atomic(insertSettings(keys));
    const matching = async (ids: string[]) =>
      (
        await db
          .selectFrom('settings')
          .select('key')
          .where(inIdList(db, 'key', ids))
          .orderBy('key')
          .execute()
      ).map((row) => row.key);
    expect(await matching([])).toEqual([]);
    expect(await matching(['f:0007', 'nope'])).toEqual(['f:0007']);
    const many = keys.slice(50, 550);
    expect(await matching([...many, 'x', "it's"])).toEqual(many);
    expect(
      db
        .selectFrom('settings')
        .select('key')
        .where(inIdList(db, 'key', many))
        .compile().parameters,
    ).toHaveLength(1);
  });

  it('text ordering is byte order on id columns (SQLite BINARY, PostgreSQL COLLATE "C")', async () => {
    const { db } = store;
    const keys = ['g:a_b', 'g:a:c', 'g:B', 'g:a', 'g:ä'];
    await store.atomic(insertSettings(keys));
    const ordered = (
      await db.selectFrom('settings').select('key').where('key', 'like', 'g:%').orderBy('key').execute()
    ).map((row) => row.key);
    expect(ordered).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('the feed: seq continues inside the write, pages of 1000 from a cursor, the newest cursor', async () => {
    const clock = frozenClock();
    const deps = { db: store.db, clock, config: testConfig() };
    await store.atomic([store.db.deleteFrom('revocations')]);
    const count = 1005;
    const statements = [];
    for (let index = 0; index < count; index++)
      statements.push(
        ...revocationStatements(deps, [
          {
            kind: 'jti',
            value: `feed-${index}`,
            clientId: 'feed-source',
            change: 'base_token_revoked',
            tokenExpiresAt: Math.floor(clock.now() / 1000) + 3600,
          },
        ]),
      );
    await store.atomic(statements);
    const latest = await latestRevocation(deps);
    expect(latest).toBe(count);
    const first = await readRevocations(deps, 0, latest);
    expect(first).toMatchObject({ complete: false, reset: false, cursor: 1000 });
    expect(first.entries).toHaveLength(1000);
    const second = await readRevocations(deps, first.cursor, latest);
    expect(second).toMatchObject({ complete: true, reset: false, cursor: count });
    expect(second.entries.map((entry) => entry.value)).toEqual(
      Array.from({ length: 5 }, (_, index) => `feed-${1000 + index}`),
    );
    expect(typeof second.entries[0]!.revokedAt).toBe('number');
    // A cursor ahead of the feed (a restored database) starts over.
    expect((await readRevocations(deps, count + 5, latest)).reset).toBe(true);
  });

  it('the audit log writes a chain that verifies, also with records in groups and conditional ones', async () => {
    const clock = frozenClock();
    await store.atomic([store.db.deleteFrom('audit_events')]);
    const audit = createAuditLog({
      db: store.db,
      atomic: store.atomic,
      ...(store.atomicAfter && { atomicAfter: store.atomicAfter }),
      clock,
      sha256,
      retentionSeconds: null,
    });
    await audit.commit([store.db.insertInto('settings').values(setting('h:1'))], [{ action: 'base.create' }]);
    await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        audit.record({ action: 'base.create', targetId: `group-${index}` }),
      ),
    );
    const never = store.db.selectFrom('settings').select('key').where('key', '=', 'h:none');
    await audit.commit([], [{ action: 'base.member_set' }], { onlyIf: never });
    await audit.commit([], [{ action: 'base.create' }, { action: 'base.create' }], {
      onlyIf: store.db.selectFrom('settings').select('key').where('key', '=', 'h:1'),
    });
    const report = await verifyAuditChain(store.db, sha256, 7);
    expect(report).toMatchObject({ ok: true, checked: 33, first: 1, last: 33 });
    const actions = await store.db.selectFrom('audit_events').select('action').orderBy('seq').execute();
    expect(actions.map((row) => row.action)).not.toContain('base.member_set');
    // A changed row breaks it.
    await store.db
      .updateTable('audit_events')
      .set({ action: 'base.member_set' })
      .where('seq', '=', 5)
      .execute();
    expect((await verifyAuditChain(store.db, sha256)).broken).toEqual({ seq: 5, reason: 'hash_mismatch' });
  });

  it.runIf(can.dialect === 'postgres')(
    'bigint comes back as a number, and one beyond 2^53 throws rather than rounds',
    async () => {
      const small = await sql<{ n: number }>`SELECT 9007199254740991::bigint AS n`.execute(store.db);
      expect(small.rows[0]!.n).toBe(Number.MAX_SAFE_INTEGER);
      const count = await sql<{ n: number }>`SELECT count(*) AS n FROM settings`.execute(store.db);
      expect(typeof count.rows[0]!.n).toBe('number');
      const sum = await sql<{ n: number }>`SELECT sum(updated_at) AS n FROM settings`.execute(store.db);
      expect(typeof sum.rows[0]!.n).toBe('number');
      await expect(sql`SELECT 9007199254740993::bigint AS n`.execute(store.db)).rejects.toThrow(
        /beyond JavaScript's safe range/,
      );
    },
  );
}
