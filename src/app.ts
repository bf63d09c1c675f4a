import { Hono } from 'hono';
import type { Deps } from './deps';
import { errorResponse, handleError } from './http/errors';
import { limitBody } from './http/validate';
import { accountTokenRoutes } from './routes/account-tokens';
import { apiTokenRoutes } from './routes/api-tokens';
import { baseRoutes } from './routes/bases';
import { baseTokenRoutes } from './routes/base-tokens';
import { keyRoutes } from './routes/keys';
import { metaRoutes } from './routes/meta';
import { policyRoutes } from './routes/policy';
import { seatableRoutes } from './routes/seatable';
import { userRoutes } from './routes/users';

/** Builds the whole HTTP API from injected dependencies; no globals, so Node, Workers and tests share it. */
export function createApp(deps: Deps) {
  const app = new Hono();
  app.use(limitBody(deps.config.bodyLimitBytes));
  app.use(async (c, next) => {
    // Set before the handler: reading c.res after it would make the Node adapter build a full Response.
    // Responses carry tokens, so nothing is cached unless a route says so (the JWKS does).
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.route('/', metaRoutes(deps));
  app.route('/', accountTokenRoutes(deps));
  app.route('/', userRoutes(deps));
  app.route('/', baseRoutes(deps));
  app.route('/', apiTokenRoutes(deps));
  app.route('/', baseTokenRoutes(deps));
  app.route('/', policyRoutes(deps));
  app.route('/', keyRoutes(deps));
  app.route('/', seatableRoutes(deps));
  app.notFound((c) => errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError(handleError(deps.log));
  return app;
}

export type App = ReturnType<typeof createApp>;
