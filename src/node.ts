// The Node entry (`tokenladder serve`, `npm start`): the same createApp as on Workers, over the Node
// wiring in src/runtime/node (a better-sqlite3 file, or PostgreSQL with TOKENLADDER_DATABASE_URL; KEK
// from env or a 0600 file; @hono/node-server).
import { createApp } from './app';
import { parseEnv } from './config';
import { prepareInstance } from './runtime/node/instance';
import { clickableUrl, serveApp } from './runtime/node/serve';

/** `tokenladder serve`: everything `npm start` does. Rejects with a one-line reason when it cannot listen. */
export async function startServer(processEnv: Record<string, string | undefined> = process.env) {
  const env = parseEnv(processEnv);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const { deps, store, close } = await prepareInstance(env, print);
  // Open revocation streams end when the server stops: closing it waits for every open response.
  const endStreams = () => deps.feedWakeups.close();
  process.once('SIGINT', endStreams);
  process.once('SIGTERM', endStreams);
  const served = await serveApp(createApp(deps), { host: env.HOST, port: env.PORT, onClose: close });
  const { server, address } = served;
  const { issuer } = deps.config;
  deps.log.info('listening', { host: address.address, port: address.port, database: store.location, issuer });
  const clickable = clickableUrl(env.HOST, address.port);
  print(`tokenladder listening on ${clickable}  (web UI ${clickable}/ui, API reference ${clickable}/docs)`);
  const stop = () => {
    endStreams();
    served.stop();
  };
  return { server, deps, stop };
}
