// Runs src/worker.ts inside workerd (Miniflare) on a local D1 prepared by `wrangler d1 migrations apply`,
// configured from wrangler.toml and .dev.vars.example exactly as `wrangler dev` would be.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import { Miniflare, type WorkerOptions } from 'miniflare';
import { unstable_readConfig } from 'wrangler';
import { bundleWorker, OFFLINE_ENV, ROOT } from '../../scripts/check-worker-bundle';
import type { Target } from '../scenarios/chain';

/** Cheap hashing for tests only (production default: ln=15,r=8,p=3); the rest comes from .dev.vars.example. */
export const TEST_OVERRIDES = { TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1' };

/**
 * What `wrangler dev` would give the Worker with .dev.vars.example as its .dev.vars: wrangler.toml's
 * compatibility settings, its [vars] overridden by the file, and its D1 database under the local id wrangler uses.
 */
export function wranglerWorkerOptions() {
  const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') }, { hideWarnings: true });
  const devVars = parseEnv(readFileSync(join(ROOT, '.dev.vars.example'), 'utf8'));
  const d1 = (
    config.d1_databases as { binding: string; database_id?: string; preview_database_id?: string }[]
  ).find((database) => database.binding === 'DB');
  if (!d1) throw new Error('wrangler.toml has no D1 database bound as DB');
  const assets = config.assets as
    | { directory?: string; binding?: string; run_worker_first?: boolean }
    | undefined;
  if (!assets?.directory || !assets.binding)
    throw new Error('wrangler.toml has no [assets] directory and binding');
  return {
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...(config.vars as Record<string, string>), ...devVars } as Record<string, string>,
    // `wrangler d1 migrations apply --local` and `wrangler dev` both key the local database by this id.
    d1Databases: { DB: d1.preview_database_id ?? d1.database_id ?? d1.binding },
    // wrangler.toml's [assets] as `wrangler dev` serves them: the folder, the binding, the Worker first.
    assets: {
      directory: join(ROOT, assets.directory),
      binding: assets.binding,
      routerConfig: {
        has_user_worker: true,
        invoke_user_worker_ahead_of_assets: assets.run_worker_first === true,
      },
    },
  };
}

/** `wrangler d1 migrations apply DB --local`: wrangler's own reading of migrations_dir, order and d1_migrations. */
export async function applyMigrationsWithWrangler(persistTo: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
      'd1',
      'migrations',
      'apply',
      'DB',
      '--local',
      '--persist-to',
      persistTo,
    ],
    { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, timeout: 60_000 },
  );
  return stdout;
}

let bundled: Promise<string> | undefined;
/** The Worker as esbuild bundles it for Workers (the bundle scripts/check-worker-bundle.ts inspects). */
export const workerBundle = () =>
  (bundled ??= bundleWorker().then((bundle) => {
    if (bundle.problems.length > 0) throw new Error(bundle.problems.join('\n'));
    return bundle.code;
  }));

export interface WorkerVariant {
  name: string;
  /** Bindings replacing (or, with undefined, removing) the wrangler ones. */
  env?: Record<string, string | undefined>;
  /** Another local D1 database than wrangler.toml's. */
  d1Id?: string;
}

type Row = Record<string, unknown>;

/** The D1 calls the tests make from Node (Miniflare types D1 with @cloudflare/workers-types, not installed here). */
export interface TestD1 {
  prepare(sql: string): TestD1Statement;
  batch(statements: TestD1Statement[]): Promise<unknown>;
}
export interface TestD1Statement {
  bind(...values: unknown[]): TestD1Statement;
  all(): Promise<{ results: Row[] }>;
  first(): Promise<Row | null>;
}

/**
 * One workerd process running the Worker under several configurations. The first variant is the one
 * wrangler.toml describes and answers at the issuer's origin; each other answers at http://<name>.variant.test.
 */
export async function startWorkerd(persistTo: string, variants: WorkerVariant[] = [{ name: 'tokenladder' }]) {
  const code = await workerBundle();
  const wrangler = wranglerWorkerOptions();
  const logs: string[] = [];
  const workers: WorkerOptions[] = variants.map((variant, index) => {
    const bindings: Record<string, string> = { ...wrangler.bindings, ...TEST_OVERRIDES };
    for (const [name, value] of Object.entries(variant.env ?? {})) {
      if (value === undefined) delete bindings[name];
      else bindings[name] = value;
    }
    return {
      name: variant.name,
      modules: [{ type: 'ESModule', path: join(ROOT, 'worker.js'), contents: code }],
      compatibilityDate: wrangler.compatibilityDate,
      compatibilityFlags: wrangler.compatibilityFlags,
      bindings,
      d1Databases: variant.d1Id ? { DB: variant.d1Id } : wrangler.d1Databases,
      // The assets binding (Scalar's script for /docs) on the first variant, the one wrangler.toml describes.
      ...(index === 0 && { assets: wrangler.assets }),
      ...(index > 0 && { routes: [`${variant.name}.variant.test/*`] }),
    };
  });
  const mf = new Miniflare({
    workers,
    d1Persist: join(persistTo, 'v3', 'd1'),
    cf: false,
    structuredWorkerdLogs: true,
    handleStructuredLogs: ({ message }: { message: string }) => void logs.push(message),
  });
  await mf.ready;

  /** A scenario Target for one variant, through Miniflare's dispatch into workerd. */
  const target = (variant = variants[0]!.name): Target => ({
    origin:
      variant === variants[0]!.name
        ? wrangler.bindings.TOKENLADDER_ISSUER!
        : `http://${variant}.variant.test`,
    admin: {
      email: wrangler.bindings.TOKENLADDER_ADMIN_EMAIL!,
      password: wrangler.bindings.TOKENLADDER_ADMIN_PASSWORD!,
    },
    now: () => new Date(),
    fetch: async (request) => {
      const body = request.body ? await request.arrayBuffer() : undefined;
      const response = await mf.dispatchFetch(request.url, {
        method: request.method,
        headers: [...request.headers],
        body,
      });
      const bytes = await response.arrayBuffer();
      return new Response(response.status === 204 || response.status === 304 ? null : bytes, {
        status: response.status,
        headers: [...response.headers],
      });
    },
  });
  return { mf, logs, target, db: async () => (await mf.getD1Database('DB')) as TestD1 };
}
