import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { App } from '../../app';

/** Why the server could not listen, in one line that says what to change; null for anything unexpected. */
export function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): string | null {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} is in use; set PORT`;
    case 'EACCES':
      return `port ${port} needs privileges this process lacks; set PORT above 1023 (or put a proxy in front)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot bind ${host}: not an address of this machine; set HOST (127.0.0.1, or 0.0.0.0 for all interfaces)`;
    default:
      return null;
  }
}

/**
 * Serves `app` on `host`:`port` with slow-client limits tighter than Node's defaults (60 s headers,
 * 300 s request); SIGINT and SIGTERM close the server, then `onClose` runs. Resolves once it listens;
 * rejects with a one-line reason when it cannot (port in use, no such address), `onClose` having run.
 */
export function serveApp(
  app: App,
  { host, port, onClose }: { host: string; port: number; onClose: () => void },
): Promise<{ server: ServerType; address: AddressInfo; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host });
    Object.assign(server, { headersTimeout: 10_000, requestTimeout: 30_000 });
    const failed = (error: NodeJS.ErrnoException) => {
      onClose();
      const problem = listenProblem(error, host, port);
      reject(problem ? new Error(problem) : error);
    };
    server.once('error', failed);
    server.once('listening', () => {
      server.off('error', failed);
      const stop = () => server.close(onClose);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      resolve({ server, address: server.address() as AddressInfo, stop });
    });
  });
}

/** The address to click: loopback and "all interfaces" are reachable as localhost here. */
export function clickableUrl(host: string, port: number): string {
  const local = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(host);
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
