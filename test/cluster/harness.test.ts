// The harness checked on today's store: three `tokenladder serve` processes over one SQLite file (WAL,
// shared by processes on one machine). The same scenario code as cluster.test.ts runs here, so process
// management, the load driver, the faults and the database checks are debugged before PostgreSQL; then
// each checker is shown to fail on a database where its guarantee is broken (a corrupted copy).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresReachable } from '../helpers/postgres';
import {
  acknowledgedProblems,
  type Cluster,
  checkAuditChain,
  type DbReader,
  FeedPoller,
  feedKey,
  openReader,
  startCluster,
  unseenFeedEntries,
} from './harness';
import {
  checkFirstStart,
  feedNeverSkips,
  keyRotationRace,
  type MixedLoadResult,
  mixedLoadWithFaults,
  pushLatency,
  throttleAcrossInstances,
} from './scenarios';

const pgServer = await postgresReachable();

describe('the cluster harness on a shared SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-harness-'));
  const file = join(dir, 'shared.db');
  let cluster: Cluster | undefined;
  let db: DbReader;
  let load: MixedLoadResult | undefined;

  beforeAll(async () => {
    // One after another: SQLite's first start is not built for a race (PostgreSQL's is, cluster.test.ts).
    cluster = await startCluster({
      backend: { kind: 'sqlite', file },
      count: 3,
      together: false,
      env: { TOKENLADDER_LOGIN_LIMIT_ACCOUNT: '5', TOKENLADDER_LOGIN_LIMIT_ADDRESS: '6' },
    });
    db = await openReader(cluster.backend);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three instances on one database: one admin, one key, migrations once, keys agree', async () => {
    await checkFirstStart(cluster!, db);
  });

  it('throttles are exact across instances (per account and per address)', async () => {
    await throttleAcrossInstances(cluster!, db, { limit: 5, by: 'account' });
    await throttleAcrossInstances(cluster!, db, { limit: 6, by: 'address' });
  });

  it('the feed never skips under a burst of revocations from many clients', async () => {
    await feedNeverSkips(cluster!, db, { revocations: 150, workers: 15, pollers: 3 });
  });

  it('revocation latency as verifiers on B and C see it (here polling every second; cluster.test.ts streams)', async () => {
    await pushLatency(cluster!, {
      revokeOn: 'A',
      streamFrom: ['B', 'C'],
      rounds: 2,
      transport: { pollSeconds: 1 },
      // One poll interval, plus the time the instance takes to answer on a busy machine.
      boundMs: 3000,
    });
  });

  it('the throttle and latency checks fail where their guarantee is broken', async () => {
    // One more attempt passes than the limit this check is told (the instances allow 5).
    await expect(throttleAcrossInstances(cluster!, db, { limit: 4, by: 'account' })).rejects.toThrow(
      'expected 5 to be less than or equal to 4',
    );
    // Verifiers polling every 30 s do not see a revocation within the 1 s the stream must meet.
    await expect(
      pushLatency(cluster!, {
        revokeOn: 'A',
        streamFrom: ['B'],
        rounds: 1,
        transport: { pollSeconds: 30 },
        boundMs: 1000,
        giveUpMs: 2500,
      }),
    ).rejects.toThrow('expected Infinity to be less than 1000');
  });

  it('racing rotations make one next; an emergency rotation on A reaches B and C', async () => {
    await keyRotationRace(cluster!, db, { emergencyOn: 'A', boundMs: 2000 });
  });

  it('mixed load with one instance SIGKILLed and one SIGSTOPped: every invariant holds', {
    timeout: 120_000,
  }, async () => {
    load = await mixedLoadWithFaults(cluster!, () => openReader(cluster!.backend), {
      durationMs: 12_000,
      workers: 10,
      // The frozen instance may hold SQLite's write lock: the others wait for it (busy timeout 5 s).
      maxGapMs: 5000,
      faults: { kill: { name: 'B', atMs: 3000 }, pause: { name: 'C', atMs: 5000, forMs: 2500 } },
    });
  });

  describe('each checker fails where its guarantee is broken (on a corrupted copy)', () => {
    const corrupted = async (name: string, corrupt: (raw: Database.Database) => void) => {
      const copy = join(dir, `${name}.db`);
      const source = new Database(file, { readonly: true });
      await source.backup(copy);
      source.close();
      const raw = new Database(copy);
      corrupt(raw);
      raw.close();
      return openReader({ kind: 'sqlite', file: copy });
    };

    it('the chain check: an edited record, a deleted record, a re-linked forgery', async () => {
      const intact = await checkAuditChain(db);
      expect(intact.report.ok).toBe(true);
      const middle = Math.floor(intact.rows / 2);

      const edited = await corrupted('edited', (raw) =>
        raw.prepare(`UPDATE audit_events SET client_ip = '203.0.113.9' WHERE seq = ?`).run(middle),
      );
      expect((await checkAuditChain(edited)).report).toMatchObject({
        ok: false,
        broken: { seq: middle, reason: 'hash_mismatch' },
      });
      await edited.close();

      const deleted = await corrupted('deleted', (raw) =>
        raw.prepare('DELETE FROM audit_events WHERE seq = ?').run(middle),
      );
      expect((await checkAuditChain(deleted)).report).toMatchObject({
        ok: false,
        broken: { seq: middle + 1, reason: 'seq_gap' },
      });
      await deleted.close();

      // The last record replaced by one with a correct-looking link but a hash nobody can recompute.
      const last = intact.rows;
      const forged = await corrupted('forged', (raw) =>
        raw
          .prepare(`UPDATE audit_events SET action = 'user.create', hash = ? WHERE seq = ?`)
          .run('f'.repeat(64), last),
      );
      expect((await checkAuditChain(forged)).report).toMatchObject({
        ok: false,
        broken: { seq: last, reason: 'hash_mismatch' },
      });
      await forged.close();
    });

    it('the acknowledged-writes check: a lost token row, a lost exchange record, a lost revocation', async () => {
      const acked = load!.acked;
      expect(await acknowledgedProblems(db, acked)).toEqual([]);
      const tokenId = [...acked.apiTokens.keys()].find((id) => !acked.deletedApiTokens.has(id));
      const [jti] = [...acked.jtis.keys()];
      // A revocation that wrote the token's own entry (its source still live): only that entry refuses it.
      const own = new Set(
        (await db.all<{ value: string }>(`SELECT value FROM revocations WHERE kind = 'jti'`)).map(
          (r) => r.value,
        ),
      );
      const revokedJti = [...acked.revokedJtis].find(
        (id) => own.has(id) && !acked.deletedApiTokens.has(String(decodeJwt(acked.jtis.get(id)!).client_id)),
      );
      expect(revokedJti).toBeDefined();
      const broken = await corrupted('lost-writes', (raw) => {
        raw.pragma('foreign_keys = OFF');
        raw.prepare('DELETE FROM api_tokens WHERE id = ?').run(tokenId);
        raw.prepare(`DELETE FROM audit_events WHERE action = 'base_token.issue' AND target_id = ?`).run(jti);
        raw.prepare(`DELETE FROM revocations WHERE kind = 'jti' AND value = ?`).run(revokedJti);
      });
      const problems = await acknowledgedProblems(broken, acked);
      await broken.close();
      expect(problems).toEqual([
        expect.stringMatching(
          new RegExp(`^api_tokens rows of acknowledged creations: 1 missing, e\\.g\\. ${tokenId}`),
        ),
        expect.stringMatching(
          new RegExp(`^base_token\\.issue records of acknowledged exchanges: 1 missing, e\\.g\\. ${jti}`),
        ),
        expect.stringMatching(
          new RegExp(
            `^feed entries of acknowledged Base-Token revocations: 1 missing, e\\.g\\. ${revokedJti}`,
          ),
        ),
      ]);
    });

    it('the feed check: an entry a poller never saw', async () => {
      const poller = new FeedPoller(load!.lb);
      await poller.catchUp();
      expect(await unseenFeedEntries(db, poller)).toEqual([]);
      const [skipped] = await db.all<{ kind: string; value: string }>(
        `SELECT kind, value FROM revocations WHERE kind = 'jti' ORDER BY seq LIMIT 1`,
      );
      expect(poller.seen.delete(feedKey(skipped!.kind, skipped!.value, null))).toBe(true);
      expect(await unseenFeedEntries(db, poller)).toEqual([expect.stringContaining(`jti ${skipped!.value}`)]);
    });

    it.skipIf(!pgServer)(
      'the same checks through the PostgreSQL reader (the tables copied, int8 columns)',
      async () => {
        const acked = load!.acked;
        const target = await createTestDatabase('tl_harness');
        const client = new pg.Client({ connectionString: target.url });
        await client.connect();
        try {
          const source = new Database(file, { readonly: true });
          for (const table of ['audit_events', 'revocations', 'api_tokens']) {
            const columns = source.pragma(`table_info(${table})`) as { name: string; type: string }[];
            const types = columns.map((c) => `${c.name} ${c.type === 'INTEGER' ? 'bigint' : 'text'}`);
            await client.query(`CREATE TABLE ${table} (${types.join(', ')})`);
            const rows = source.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
            for (let i = 0; i < rows.length; i += 200) {
              const batch = rows.slice(i, i + 200);
              const values: unknown[] = [];
              const tuples = batch.map(
                (row) =>
                  `(${columns.map((c) => {
                    values.push(row[c.name]);
                    return `$${values.length}`;
                  })})`,
              );
              await client.query(
                `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) VALUES ${tuples.join(', ')}`,
                values,
              );
            }
          }
          source.close();
          const reader = await openReader({ kind: 'postgres', url: target.url });
          const intact = await checkAuditChain(reader);
          expect(intact.report).toMatchObject({ ok: true, first: 1, checked: intact.rows });
          expect(await acknowledgedProblems(reader, acked)).toEqual([]);
          const poller = new FeedPoller(load!.lb);
          await poller.catchUp();
          expect(await unseenFeedEntries(reader, poller)).toEqual([]);
          await client.query(`UPDATE audit_events SET at = at + 1 WHERE seq = 7`);
          expect((await checkAuditChain(reader)).report).toMatchObject({
            ok: false,
            broken: { seq: 7, reason: 'hash_mismatch' },
          });
          await reader.close();
        } finally {
          await client.end();
          await target.drop();
        }
      },
    );
  });
});
