import { Hono, type MiddlewareHandler } from 'hono';
import type { Deps } from '../deps';
import { bearerCredential } from '../http/auth';
import { errorResponse } from '../http/errors';
import { constantTimeEqual } from '../lib/bytes';
import { isDatabaseError, routeGroup, type AppMetrics } from '../metrics/metrics';
import { routeDoc } from '../openapi/route-doc';

const metricsDoc = routeDoc({
  summary: 'Prometheus metrics (only when TOKENLADDER_METRICS is on; Node only)',
  description:
    'Text exposition format 0.0.4. With TOKENLADDER_METRICS_TOKEN set, send it as ' +
    '`Authorization: Bearer <token>`. Off (404) by default and on Workers.',
  tags: ['Meta'],
  auth: 'none',
  errors: [401, 404],
  responses: {
    200: { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
  },
});

/**
 * Times and classifies every request for `metrics`. The error code is read from the JSON body of a
 * 4xx/5xx answer only (a clone), so successes cost one timer.
 */
export function measureRequests(metrics: AppMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    let errorCode: string | null = null;
    if (status >= 400) {
      errorCode = `http_${status}`;
      const fromError = (c.error as { code?: unknown } | undefined)?.code;
      if (typeof fromError === 'string' && /^[a-z_]+$/.test(fromError)) errorCode = fromError;
      else if (c.res.headers.get('content-type')?.startsWith('application/json')) {
        try {
          const body = (await c.res.clone().json()) as { error?: { code?: unknown } };
          if (typeof body?.error?.code === 'string') errorCode = body.error.code;
        } catch {
          // Not our envelope (SeaTable's shapes): the status stands for the code.
        }
      }
    }
    metrics.observe({
      group: routeGroup(c.req.method, c.req.path),
      method: c.req.method,
      status,
      seconds: (performance.now() - started) / 1000,
      errorCode,
      databaseError: c.error !== undefined && isDatabaseError(c.error),
    });
  };
}

/** `GET /metrics` when metrics are on; with a token configured, only for its Bearer holder. */
export function metricsRoutes(deps: Deps, metrics: AppMetrics) {
  const token = deps.config.metrics?.token ?? null;
  // Hashed once: each scrape hashes only what it presents, and digests are compared in constant time.
  const tokenHash = token === null ? null : Promise.resolve(deps.hashToken(token));
  return new Hono().get('/metrics', metricsDoc, async (c) => {
    if (tokenHash !== null) {
      const presented = bearerCredential(c) ?? '';
      if (!constantTimeEqual(await deps.hashToken(presented), await tokenHash))
        return errorResponse(c, 'missing_credentials', '/metrics needs its Bearer credential');
    }
    const { contentType, body } = await metrics.render();
    c.header('Cache-Control', 'no-store');
    c.header('Content-Type', contentType);
    return c.body(body);
  });
}
