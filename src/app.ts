import { Hono } from 'hono';
import { auditFailures } from './http/audit-failures';
import { auditRoutes } from './routes/audit';
import { revocationRoutes } from './routes/revocations';
import type { Deps } from './deps';
import { handleError, noRoute } from './http/errors';
import { accessLog, corsFor, hygiene } from './http/hygiene';
import { limitBody } from './http/validate';
import { openApiRoutes } from './openapi/document';
import { accountTokenRoutes } from './routes/account-tokens';
import { apiTokenRoutes } from './routes/api-tokens';
import { baseRoutes } from './routes/bases';
import { baseTokenRoutes } from './routes/base-tokens';
import { healthRoutes } from './routes/health';
import { keyRoutes } from './routes/keys';
import { measureRequests, metricsRoutes } from './routes/metrics';
import { metaRoutes } from './routes/meta';
import { oauthRoutes } from './routes/oauth';
import { policyRoutes } from './routes/policy';
import { seatableRoutes } from './routes/seatable';
import { secretScanningRoutes } from './routes/secret-scanning';
import { isSeatablePath, seatableErrorResponse } from './routes/seatable/protocol';
import { serviceAccountRoutes } from './routes/service-accounts';
import { userRoutes } from './routes/users';
import { uiRoutes } from './ui';

/** Builds the whole HTTP API from injected dependencies; no globals, so Node, Workers and tests share it. */
export function createApp(deps: Deps) {
  const app = new Hono();
  // First, so every response (413s, 404s, preflights included) has a request id and the security
  // headers. They are set before the handler: reading c.res after it would make the Node adapter
  // build a full Response. A route's own c.header() wins (JWKS Cache-Control, HTML pages' CSP).
  app.use(hygiene());
  if (deps.metrics) app.use(measureRequests(deps.metrics));
  if (deps.config.accessLog) app.use(accessLog(deps));
  if (deps.config.corsOrigins.length > 0) {
    // Never on /ui or other HTML: only the API and the JWKS are meant to be read cross-origin.
    const corsMiddleware = corsFor(deps.config.corsOrigins);
    app.use('/api/*', corsMiddleware);
    app.use('/.well-known/*', corsMiddleware);
    app.use('/oauth/*', corsMiddleware);
  }
  app.use(limitBody(deps.config.bodyLimitBytes));
  app.use(auditFailures(deps));
  app.route('/', metaRoutes(deps));
  app.route('/', healthRoutes(deps));
  if (deps.metrics) app.route('/', metricsRoutes(deps, deps.metrics));
  app.route('/', accountTokenRoutes(deps));
  app.route('/', userRoutes(deps));
  app.route('/', baseRoutes(deps));
  app.route('/', apiTokenRoutes(deps));
  app.route('/', serviceAccountRoutes(deps));
  app.route('/', baseTokenRoutes(deps));
  app.route('/', policyRoutes(deps));
  app.route('/', keyRoutes(deps));
  app.route('/', auditRoutes(deps));
  app.route('/', revocationRoutes(deps));
  app.route('/', secretScanningRoutes(deps));
  app.route('/', oauthRoutes(deps));
  app.route('/', seatableRoutes(deps));
  app.route('/', openApiRoutes(app, deps));
  app.route('/', uiRoutes(deps));
  // 404, or 405 with Allow when the path has routes for other methods.
  app.notFound(noRoute(app, { seatablePath: isSeatablePath, seatableError: seatableErrorResponse }));
  app.onError(handleError(deps.log));
  return app;
}

export type App = ReturnType<typeof createApp>;
