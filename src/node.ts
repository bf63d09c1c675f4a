// The Node entry (`tokenladder serve`, `npm start`): the same createApp as on Workers, over the Node
// wiring in src/runtime/node (better-sqlite3 file database, KEK from env or a 0600 file, @hono/node-server).
import { createApp } from './app';
import { appConfigFromEnv, parseEnv } from './config';
import { openDatabase } from './runtime/node/database';
import { createNodeDeps } from './runtime/node/deps';
import { loadKek } from './runtime/node/kek';
import { serveApp } from './runtime/node/serve';
import { prepare } from './startup';

/** `tokenladder serve`: everything `npm start` does. */
export async function startServer(processEnv: Record<string, string | undefined> = process.env) {
  const env = parseEnv(processEnv);
  const { raw, applied } = openDatabase(env);
  const config = appConfigFromEnv(env);
  const deps = await createNodeDeps({ raw, kek: await loadKek(env, raw), config });
  if (applied.length > 0) deps.log.info('applied migrations', { migrations: applied });
  try {
    await prepare(deps, {
      env,
      keyStore: 'the database',
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    raw.close();
    throw error;
  }
  const { server, stop } = serveApp(createApp(deps), {
    port: env.PORT,
    onListen: (port) =>
      deps.log.info('listening', { port, database: env.TOKENLADDER_DB, issuer: config.issuer }),
    onClose: () => raw.close(),
  });
  return { server, deps, stop };
}
