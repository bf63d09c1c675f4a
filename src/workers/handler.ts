import { passwordLengthDeviation, type ScryptFunction } from '../accounts/passwords';
import { bootstrapAdmin } from '../accounts/users';
import { createApp, type App } from '../app';
import { createDeps } from '../create-deps';
import type { Deps, Logger } from '../deps';
import { importKek } from '../keys/kek';
import { createD1Store } from '../store/d1';
import { workerSettings, WorkerConfigError, type WorkerEnv } from './config';

export interface WorkerHandlerOptions {
  /** node:crypto's scrypt under nodejs_compat, so PHC strings match Node's byte for byte. */
  scrypt: ScryptFunction;
  log?: Logger;
}

/** JSON lines at their own level (Node's logger writes all to stderr), so Workers Logs and `wrangler tail` can filter them. */
export const workersLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
};

/**
 * An isolate shares CPU between its requests and a scrypt hash is CPU-bound: two at once is enough
 * to keep sign-ins flowing without starving token exchanges in the same isolate.
 */
export const WORKER_MAX_CONCURRENT_HASHES = 2;

/** The one body of a Worker that cannot serve yet; the reason goes to the log, never to the caller. */
const UNAVAILABLE = JSON.stringify({
  error: {
    code: 'service_unavailable',
    message: 'the service is not available; its operator can see why in the logs',
  },
});

/**
 * The Workers `fetch` handler: the same createApp as on Node, built once per `env` object (one per
 * isolate and deployment), over D1. The first request of an isolate reads the configuration, creates
 * the signing key and the first admin when the database has none (both race-safe across isolates),
 * and checks that the KEK opens the stored keys.
 */
export function createWorkerHandler({ scrypt, log = workersLogger }: WorkerHandlerOptions) {
  const apps = new WeakMap<object, Promise<App>>();

  const appFor = (env: WorkerEnv): Promise<App> => {
    let app = apps.get(env);
    if (!app) {
      app = start(env, scrypt, log);
      apps.set(env, app);
      // A configuration error stays until the operator changes env (a new env object); anything else
      // (D1 unreachable, migrations not yet applied) is retried by the next request.
      app.catch((error: unknown) => {
        if (!(error instanceof WorkerConfigError)) apps.delete(env);
      });
    }
    return app;
  };

  return {
    async fetch(request: Request, env: WorkerEnv): Promise<Response> {
      let app: App;
      try {
        app = await appFor(env);
      } catch (error) {
        return unavailable(error, log);
      }
      return app.fetch(request);
    },
  };
}

async function start(env: WorkerEnv, scrypt: ScryptFunction, log: Logger): Promise<App> {
  const settings = workerSettings(env);
  const deps = await createDeps({
    ...createD1Store(settings.db),
    kek: await importKek(settings.kekText),
    config: settings.config,
    scrypt,
    maxConcurrentHashes: WORKER_MAX_CONCURRENT_HASHES,
    log,
  });
  await checkKekOpensKeys(deps);
  const deviation = passwordLengthDeviation(settings.config);
  if (deviation) log.warn('password policy deviates from NIST SP 800-63B-4', { deviation });
  await ensureFirstAdmin(deps, settings.admin);
  log.info('tokenladder ready', { issuer: settings.config.issuer, version: settings.config.version });
  return createApp(deps);
}

/** A wrong KEK would otherwise surface as a 500 at the first token exchange. */
async function checkKekOpensKeys(deps: Deps): Promise<void> {
  try {
    await deps.keys.current();
  } catch (error) {
    if (error instanceof Error && error.name === 'OperationError') {
      throw new WorkerConfigError(
        'TOKENLADDER_KEK: it does not decrypt the signing keys stored in D1; set the KEK they were sealed with',
      );
    }
    throw error;
  }
}

/** As on Node, but the password must come from a secret: a Worker has nowhere to show a generated one once. */
async function ensureFirstAdmin(
  deps: Deps,
  admin: { email: string; password: string | undefined },
): Promise<void> {
  const anyUser = await deps.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) return;
  if (admin.password === undefined) {
    throw new WorkerConfigError(
      'TOKENLADDER_ADMIN_PASSWORD: required to create the first admin (wrangler secret put TOKENLADDER_ADMIN_PASSWORD)',
    );
  }
  if (await bootstrapAdmin(deps, admin.email, admin.password))
    deps.log.info('created the first system admin', { email: admin.email });
}

function unavailable(error: unknown, log: Logger): Response {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof WorkerConfigError) log.error('tokenladder is not configured', { problem: message });
  else if (/no such table/i.test(message))
    log.error('the D1 database is not migrated: run `wrangler d1 migrations apply tokenladder --remote`', {
      error: message,
    });
  else
    log.error('tokenladder could not start', {
      error: error instanceof Error ? (error.stack ?? message) : message,
    });
  return new Response(UNAVAILABLE, {
    status: 503,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'retry-after': '30',
    },
  });
}
