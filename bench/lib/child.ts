// Child side: how a server under test (or an in-process loop) announces itself and ends.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** One JSON line on stdout: the orchestrator reads these. */
export const report = (message: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify(message)}\n`);

/**
 * Exits (through process.exit, so `--cpu-prof` still writes its profile) on SIGTERM/SIGINT or when
 * the orchestrator's end of stdin closes: a benchmark server never outlives its orchestrator.
 */
export function exitWithParent(cleanup: () => void = () => {}): void {
  let done = false;
  const stop = () => {
    if (done) return;
    done = true;
    try {
      cleanup();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  process.stdin.resume();
}

/** Serves a fetch handler on 127.0.0.1 with a free port, then reports `{ ready, port }`. */
export function serveFetch(
  fetch: (request: Request) => Response | Promise<Response>,
  cleanup?: () => void,
): void {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    report({ ready: true, port: info.port }),
  );
  exitWithParent(() => {
    server.close();
    cleanup?.();
  });
}

/** Same for a plain node:http server. */
export function listenNodeServer(server: Server): void {
  server.listen(0, '127.0.0.1', () => report({ ready: true, port: (server.address() as AddressInfo).port }));
  exitWithParent(() => server.close());
}
