import { serve, type ServerType } from '@hono/node-server';
import type { App } from '../../app';

/**
 * Serves `app` on `port` with slow-client limits tighter than Node's defaults (60 s headers, 300 s
 * request); SIGINT and SIGTERM close the server, then `onClose` runs.
 */
export function serveApp(
  app: App,
  { port, onListen, onClose }: { port: number; onListen: (port: number) => void; onClose: () => void },
): { server: ServerType; stop: () => void } {
  const server = serve({ fetch: app.fetch, port }, (info) => onListen(info.port));
  Object.assign(server, { headersTimeout: 10_000, requestTimeout: 30_000 });
  const stop = () => server.close(onClose);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { server, stop };
}
