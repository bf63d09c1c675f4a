import type { ScryptFunction } from '../accounts/passwords';
import { createApp, type App } from '../app';
import { createDeps } from '../create-deps';
import type { Logger } from '../deps';
import { importKek } from '../keys/kek';
import { ConfigError, prepare } from '../startup';
import { createD1Store } from '../store/d1';
import { workerSettings, type WorkerEnv } from './config';

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
      // A configuration error stays until the operator changes env (a new env object): the Worker answers
      // 503 and its log says why. Anything else (D1 unreachable, migrations not yet applied) is retried
      // by the next request.
      app.catch((error: unknown) => {
        if (!(error instanceof ConfigError)) apps.delete(env);
      });
    }
    return app;
  };

  return {
    async fetch(request: Request, env: WorkerEnv): Promise<Response> {
      const placeholder = placeholderIssuerProblem(env, request);
      if (placeholder) return unavailable(new ConfigError(placeholder), log);
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

/** wrangler.toml's example TOKENLADDER_ISSUER: a Worker serving it would sign tokens no verifier should accept. */
export const PLACEHOLDER_ISSUER = 'https://tokenladder.example.workers.dev';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The placeholder issuer is refused once the Worker is deployed, which a Worker can tell only from
 * where it is reached: `wrangler dev` (local mode) serves on a loopback host, a deployed Worker (and
 * `wrangler dev --remote`) on a public one. Locally the placeholder is allowed (.dev.vars usually
 * overrides it anyway); see docs/workers.md.
 */
export function placeholderIssuerProblem(env: WorkerEnv, request: Request): string | null {
  const issuer = typeof env.TOKENLADDER_ISSUER === 'string' ? env.TOKENLADDER_ISSUER.replace(/\/+$/, '') : '';
  if (issuer !== PLACEHOLDER_ISSUER) return null;
  if (LOOPBACK.has(new URL(request.url).hostname)) return null;
  return `TOKENLADDER_ISSUER: still wrangler.toml's placeholder ${PLACEHOLDER_ISSUER}; set it to this Worker's public URL ([vars] in wrangler.toml, then wrangler deploy)`;
}

/** The `[assets]` binding wrangler.toml declares (the @scalar/api-reference browser folder). */
interface AssetsBinding {
  fetch(request: Request | string): Promise<Response>;
}

/** /docs' script from the assets binding: the same installed file Node serves, uploaded by wrangler deploy. */
function assetsDocsScript(binding: unknown) {
  if (typeof (binding as AssetsBinding | undefined)?.fetch !== 'function') return undefined;
  const assets = binding as AssetsBinding;
  return async () => {
    const response = await assets.fetch('https://assets.invalid/standalone.js');
    return response.ok ? response.body : null;
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
  // No console on Workers: the first admin's password must be a secret, and the log announces it.
  await prepare(deps, { env: settings.admin, keyStore: 'D1' });
  log.info('tokenladder ready', { issuer: settings.config.issuer, version: settings.config.version });
  return createApp({ ...deps, docsScript: assetsDocsScript(env.ASSETS) });
}

function unavailable(error: unknown, log: Logger): Response {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ConfigError) log.error('tokenladder is not configured', { problem: message });
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
