// The Node entry (`tokenladder serve`, `npm start`): the same createApp as on Workers, over the Node
// wiring in src/runtime/node (better-sqlite3 file database, KEK from env or a 0600 file, @hono/node-server).
import { createApp } from './app';
import { appConfigFromEnv, parseEnv } from './config';
import { openDatabase } from './runtime/node/database';
import { createNodeDeps } from './runtime/node/deps';
import { loadKek } from './runtime/node/kek';
import { clickableUrl, serveApp } from './runtime/node/serve';
import { prepare } from './startup';

/** `tokenladder serve`: everything `npm start` does. Rejects with a one-line reason when it cannot listen. */
export async function startServer(processEnv: Record<string, string | undefined> = process.env) {
  const env = parseEnv(processEnv);
  const { raw, applied } = openDatabase(env);
  const config = appConfigFromEnv(env);
  const deps = await createNodeDeps({ raw, kek: await loadKek(env, raw), config, processMetrics: true });
  if (applied.length > 0) deps.log.info('applied migrations', { migrations: applied });
  const print = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await prepare(deps, { env, keyStore: 'the database', print });
  } catch (error) {
    raw.close();
    throw error;
  }
  // Open revocation streams end when the server stops: closing it waits for every open response.
  const endStreams = () => deps.feedWakeups.close();
  process.once('SIGINT', endStreams);
  process.once('SIGTERM', endStreams);
  const served = await serveApp(createApp(deps), {
    host: env.HOST,
    port: env.PORT,
    onClose: () => raw.close(),
  });
  const { server, address } = served;
  const stop = () => {
    endStreams();
    served.stop();
  };
  deps.log.info('listening', {
    host: address.address,
    port: address.port,
    database: env.TOKENLADDER_DB,
    issuer: config.issuer,
  });
  const url = clickableUrl(env.HOST, address.port);
  print(`tokenladder listening on ${url}  (web UI ${url}/ui, API reference ${url}/docs)`);
  return { server, deps, stop };
}
