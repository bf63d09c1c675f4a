// The Node entry (`tokenladder serve`, `npm start`): the same createApp as on Workers, over the Node
// wiring in src/runtime/node (a better-sqlite3 file, or PostgreSQL with TOKENLADDER_DATABASE_URL; KEK
// from env or a 0600 file; @hono/node-server).
import { createApp } from './app';
import { appConfigFromEnv, parseEnv } from './config';
import { consoleLogger } from './lib/logger';
import { openStore } from './runtime/node/database';
import { createNodeDeps } from './runtime/node/deps';
import { loadKek } from './runtime/node/kek';
import { clickableUrl, serveApp } from './runtime/node/serve';
import { prepare } from './startup';
import { createPostgresListener } from './store/postgres-listen';

/** `tokenladder serve`: everything `npm start` does. Rejects with a one-line reason when it cannot listen. */
export async function startServer(processEnv: Record<string, string | undefined> = process.env) {
  const env = parseEnv(processEnv);
  const store = await openStore(env);
  const config = appConfigFromEnv(env);
  const url = env.TOKENLADDER_DATABASE_URL;
  // PostgreSQL: one LISTEN connection per instance, so another instance's key change lands here at once.
  const listener = url === undefined ? undefined : createPostgresListener({ url, log: consoleLogger });
  const close = () => {
    void listener?.close();
    void store.close();
  };
  let deps: Awaited<ReturnType<typeof createNodeDeps>>;
  try {
    deps = await createNodeDeps({
      store,
      kek: await loadKek(env, store),
      config,
      processMetrics: true,
      // Another instance's revocation wakes this one's streams at once (NOTIFY at its commit).
      ...(listener && { feedWakeupSource: listener.onRevocations }),
    });
    listener?.onKeys(() => deps.keys.reload());
  } catch (error) {
    close();
    throw error;
  }
  if (store.applied.length > 0) deps.log.info('applied migrations', { migrations: store.applied });
  const print = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await prepare(deps, { env, keyStore: 'the database', print });
  } catch (error) {
    close();
    throw error;
  }
  // Open revocation streams end when the server stops: closing it waits for every open response.
  const endStreams = () => deps.feedWakeups.close();
  process.once('SIGINT', endStreams);
  process.once('SIGTERM', endStreams);
  const served = await serveApp(createApp(deps), {
    host: env.HOST,
    port: env.PORT,
    onClose: close,
  });
  const { server, address } = served;
  const stop = () => {
    endStreams();
    served.stop();
  };
  deps.log.info('listening', {
    host: address.address,
    port: address.port,
    database: store.location,
    issuer: config.issuer,
  });
  const clickable = clickableUrl(env.HOST, address.port);
  print(`tokenladder listening on ${clickable}  (web UI ${clickable}/ui, API reference ${clickable}/docs)`);
  return { server, deps, stop };
}
