import { Hono } from 'hono';
import type { Deps } from '../../deps';
import type { AppEnv } from '../../http/auth';
import { handleSeatableError } from './protocol';
import { seatableAdminRoutes } from './admin';
import { seatableApiTokenRoutes } from './api-tokens';
import { seatableAuthRoutes } from './auth';
import { seatableBaseRoutes } from './bases';

/**
 * SeaTable's auth API, path for path (trailing slashes included), over the same services as /api/v1:
 * existing SeaTable scripts and clients point `server_url` here and keep working.
 */
export function seatableRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.route('/', seatableAuthRoutes(deps));
  app.route('/', seatableBaseRoutes(deps));
  app.route('/', seatableApiTokenRoutes(deps));
  app.route('/', seatableAdminRoutes(deps));
  app.onError(handleSeatableError(deps.log));
  return app;
}
