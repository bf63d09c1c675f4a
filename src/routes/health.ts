import { Hono } from 'hono';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../deps';
import { errorResponse } from '../http/errors';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { dialectOf } from '../store/dialect';
import { migrationProblem } from '../store/migration-names';

const healthSchema = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health' });
const readySchema = z.strictObject({ status: z.literal('ready') }).meta({ id: 'Ready' });

const healthzDoc = routeDoc({
  summary: 'Liveness: the process answers (touches no database)',
  description: 'For a process supervisor or a liveness probe. Unauthenticated, never cached.',
  tags: ['Meta'],
  auth: 'none',
  responses: { 200: jsonResponse('The process is alive', healthSchema) },
});

const readyzDoc = routeDoc({
  summary: 'Readiness: the database answers, its migrations are current, a signing key is loaded',
  description:
    'For a load balancer or a readiness probe: 503 (with the failed check in the message, details in ' +
    'the log) while this instance cannot serve exchanges. Unauthenticated, never cached.',
  tags: ['Meta'],
  auth: 'none',
  errors: [503],
  responses: { 200: jsonResponse('Ready to serve', readySchema) },
});

/** What keeps this instance from serving: the check that failed, or null when ready. */
async function notReady(deps: Deps): Promise<string | null> {
  let applied: string[];
  try {
    // wrangler's table on SQLite and D1; src/store/postgres-migrate.ts's on PostgreSQL (same file names).
    const table = dialectOf(deps.db) === 'postgres' ? 'tokenladder_migrations' : 'd1_migrations';
    const result = await sql<{ name: string }>`SELECT name FROM ${sql.table(table)}`.execute(deps.db);
    applied = result.rows.map((row) => row.name);
  } catch (error) {
    deps.log.error('readyz: the database does not answer', { error: (error as Error).message });
    return 'the database does not answer';
  }
  const migrations = migrationProblem(applied);
  if (migrations) {
    deps.log.error('readyz: migrations are not current', { problem: migrations });
    return 'the database migrations are not current';
  }
  try {
    await deps.keys.current();
  } catch (error) {
    deps.log.error('readyz: no signing key', { error: (error as Error).message });
    return 'no signing key is loaded';
  }
  return null;
}

/** `GET /healthz` and `GET /readyz`: unauthenticated probes for supervisors and load balancers. */
export function healthRoutes(deps: Deps) {
  return new Hono()
    .get('/healthz', healthzDoc, (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json({ status: 'ok' as const });
    })
    .get('/readyz', readyzDoc, async (c) => {
      c.header('Cache-Control', 'no-store');
      const problem = await notReady(deps);
      if (problem) return errorResponse(c, 'service_unavailable', `not ready: ${problem}`, 5);
      return c.json({ status: 'ready' as const });
    });
}
