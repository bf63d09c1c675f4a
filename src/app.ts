import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Deps } from './deps';
import { AppError } from './errors';
import { errorResponse, handleError } from './http/errors';
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
  app.use(
    bodyLimit({
      maxSize: deps.config.bodyLimitBytes,
      onError: () => {
        throw new AppError('payload_too_large', `request bodies are limited to ${deps.config.bodyLimitBytes} bytes`);
      },
    }),
  );
  app.use(async (c, next) => {
    await next();
    // Responses carry tokens: never cache them (the JWKS sets its own policy).
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
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
