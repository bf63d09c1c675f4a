import Database from 'better-sqlite3';
import type { Compilable } from 'kysely';
import { describe, expect, it } from 'vitest';
import { entriesRefusing, entriesRevoking } from '../../src/revocations/feed';
import { readMigrations } from '../../src/store/migration-files';
import { createSqliteStore, migrateSqlite } from '../../src/store/sqlite';

/**
 * The per-token revocation lookups run on every Base-Token introspection (entriesRefusing) and every
 * temporary API-Token use and Base-Token revocation (entriesRevoking): they must use the feed's
 * indexes, never read the whole feed, which holds every revocation of the last Base-Token lifetime.
 * (Found by the OAuth benchmark: with 100,000 feed rows a full scan costs about 24 ms per lookup here.)
 */
describe('the per-token revocation lookups on SQLite', () => {
  const raw = new Database(':memory:');
  migrateSqlite(raw, readMigrations());
  const { db } = createSqliteStore(raw);
  const plan = (query: Compilable) => {
    const { sql, parameters } = query.compile();
    return (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[]).map(
      (row) => row.detail,
    );
  };
  const token = { jti: 'jti-1', clientId: 'client-1', sub: 'user-1', baseId: 'base-1', iat: 1 };

  it.each([
    ['entriesRefusing, by gen', entriesRefusing(db, { ...token, gen: 5 })],
    ['entriesRefusing, by iat', entriesRefusing(db, token)],
    ['entriesRevoking, by gen', entriesRevoking(db, { ...token, gen: 5 })],
    ['entriesRevoking, by iat', entriesRevoking(db, token)],
  ])('%s: searches the indexes, scans nothing', (_name, query) => {
    const details = plan(query);
    expect(details.join('\n')).not.toMatch(/\bSCAN revocations\b/);
    expect(details.join('\n')).toMatch(/SEARCH revocations USING (COVERING )?INDEX revocations_jti/);
  });
});
