import { CompiledQuery, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { publishSelectedRevocations } from '../../src/revocations/revoke';
import { createFeedWakeups, writesFeed, type FeedWakeups } from '../../src/revocations/wakeups';
import { testApp } from '../helpers/app';

// Which statements wake the revocation streams, judged on the statements the app really builds.

describe('writesFeed', () => {
  it('is true for inserts and updates of `revocations`, built or hand-written, and false for the rest', async () => {
    const t = await testApp();
    const { db } = t.deps;
    const row = { seq: 1, kind: 'jti' as const, value: 'x', revoked_at: 1, expires_at: 2, reason: 'r' };
    const feedWrites = [
      db.insertInto('revocations').values(row),
      db.updateTable('revocations').set({ expires_at: 3 }).where('seq', '=', 1),
      db.updateTable('revocations as r').set({ expires_at: 3 }),
      ...publishSelectedRevocations(
        t.deps,
        'api',
        sql<{ id: string }>`(SELECT 'a' AS id)`,
        'api_token_deleted',
      ),
    ];
    const others = [
      db.insertInto('users').values({ id: 'u' } as never),
      db.deleteFrom('revocations').where('seq', '<', 1),
      db.selectFrom('revocations').selectAll(),
      { compile: () => CompiledQuery.raw('INSERT INTO audit_events (id) VALUES (?)', ['a']) },
      { compile: () => CompiledQuery.raw('INSERT INTO revocations_archive (seq) VALUES (1)') },
    ];
    expect(feedWrites.map((statement) => writesFeed(statement.compile()))).toEqual([
      true,
      true,
      true,
      // publishSelectedRevocations: its raw INSERT ... SELECT, the replaced rows' DELETE.
      true,
      false,
    ]);
    expect(others.map((statement) => writesFeed(statement.compile()))).toEqual(others.map(() => false));
  });
});

describe('createFeedWakeups', () => {
  let wakeups: FeedWakeups | undefined;
  afterEach(() => wakeups?.close());

  it('starts the injected source with the first subscriber and stops it after the last', () => {
    const events: string[] = [];
    let wakeSource: (() => void) | undefined;
    wakeups = createFeedWakeups({
      latest: async () => 0,
      source: (wake) => {
        events.push('start');
        wakeSource = wake;
        return () => events.push('stop');
      },
    });
    expect(events).toEqual([]);
    let woken = 0;
    const first = wakeups.subscribe(() => woken++);
    const second = wakeups.subscribe(() => woken++);
    expect(events).toEqual(['start']);
    wakeSource!();
    expect(woken).toBe(2);
    first();
    expect(events).toEqual(['start']);
    second();
    expect(events).toEqual(['start', 'stop']);
    expect(wakeups.size).toBe(0);
  });

  it('close() ends the subscriptions, aborts `closed` and refuses new subscribers', () => {
    wakeups = createFeedWakeups({ latest: async () => 0 });
    let woken = 0;
    wakeups.subscribe(() => woken++);
    wakeups.close();
    expect(wakeups.closed.aborted).toBe(true);
    wakeups.subscribe(() => woken++);
    wakeups.wake();
    expect(woken).toBe(0);
    expect(wakeups.size).toBe(0);
  });
});
