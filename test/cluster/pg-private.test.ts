// The private PostgreSQL helper itself: a committed row survives `pg_ctl stop -m immediate` (a crash:
// no shutdown checkpoint, WAL replay at the next start), an uncommitted one does not, and cleanup
// leaves nothing behind.
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { privatePostgresProblem, startPrivatePostgres, type PrivatePostgres } from '../helpers/pg-private';

const problem = privatePostgresProblem();
if (problem) console.warn(`private PostgreSQL tests skipped: ${problem}`);

describe.skipIf(problem !== null && !process.env.CI)('a private PostgreSQL cluster', () => {
  let server: PrivatePostgres | undefined;
  afterAll(() => server?.cleanup());

  it('starts, keeps a committed row across a crash (-m immediate), loses the uncommitted one, cleans up', {
    timeout: 90_000,
  }, async () => {
    server = await startPrivatePostgres();
    const firstPid = server.pid();
    expect(firstPid).toBeGreaterThan(0);
    const url = await server.createDatabase('crashtest');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE t (id int PRIMARY KEY, note text NOT NULL)');
    await client.query(`INSERT INTO t VALUES (1, 'committed')`);
    await client.query('BEGIN');
    await client.query(`INSERT INTO t VALUES (2, 'in flight')`);
    client.on('error', () => {}); // the crash ends this connection

    await server.stop('immediate');
    expect(server.pid()).toBeNull();
    await expect(client.query('COMMIT')).rejects.toThrow();
    const refused = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    await expect(refused.connect()).rejects.toThrow();

    await server.start();
    expect(server.pid()).not.toBe(firstPid);
    // Recovery replayed the WAL: the server says it was not shut down cleanly.
    expect(server.log()).toMatch(/database system was interrupted|was not properly shut down/);
    const after = new pg.Client({ connectionString: url });
    await after.connect();
    const { rows } = await after.query('SELECT id, note FROM t ORDER BY id');
    await after.end();
    expect(rows).toEqual([{ id: 1, note: 'committed' }]);

    const dir = server.dir;
    await server.cleanup();
    expect(existsSync(dir)).toBe(false);
  });
});
