// Bundles the Worker twice and fails when anything Node-only slipped into it: with esbuild and the Workers
// export conditions (the bundle test/workers runs in workerd), and with `wrangler deploy --dry-run` (the
// bundle a deploy would upload, which also validates wrangler.toml). Run by `npm test`:
//   node --import tsx scripts/check-worker-bundle.ts
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WORKER_ENTRY = 'src/worker.ts';

/** Keeps wrangler and Miniflare off the network: no update check, no metrics, no `request.cf` download. */
export const OFFLINE_ENV = {
  CI: 'true',
  WRANGLER_HIDE_BANNER: 'true',
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
};

/** The only runtime modules the Worker may import: workerd provides node:crypto under nodejs_compat (scrypt). */
export const ALLOWED_RUNTIME_IMPORTS = new Set(['node:crypto']);

/**
 * Optional converters hono-openapi's schema libraries load with `import()` only for other schema
 * vendors (Effect, Sury, Valibot, zod 3): never reached with zod 4 schemas, and left external by the bundlers.
 */
const UNREACHABLE_VENDOR_IMPORTS = new Set([
  'effect',
  'sury',
  '@valibot/to-json-schema',
  'zod-to-json-schema',
  'zod-openapi',
]);
const isUnreachableVendorImport = (from: string, imported: { path: string; kind: string }) =>
  imported.kind === 'dynamic-import' &&
  UNREACHABLE_VENDOR_IMPORTS.has(imported.path) &&
  from.includes('node_modules/@standard-community/');

/** Packages and sources that only work on Node; none may appear in the bundle. */
const NODE_ONLY = [
  /node_modules\/better-sqlite3\//,
  /node_modules\/bindings\//,
  /node_modules\/@hono\/node-server\//,
  /node_modules\/commander\//,
  /node_modules\/tsx\//,
  /node_modules\/prom-client\//,
  /^src\/metrics\/prometheus\.ts$/,
  /^src\/(node|cli)\.ts$/,
  /^src\/runtime\/node\//,
  /^src\/store\/(sqlite|migration-files)\.ts$/,
];

export interface WorkerBundle {
  code: string;
  bytes: number;
  /** Why the bundle is unfit for Workers; empty when it is fine. */
  problems: string[];
}

/**
 * esbuild with Workers' resolution (conditions workerd/worker/browser, neutral platform). Every Node
 * builtin is left external so the build never fails on one; instead each is reported unless allowed.
 */
export async function bundleWorker(entry: string = WORKER_ENTRY): Promise<WorkerBundle> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['node:*', ...builtinModules],
    metafile: true,
    minify: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  return { code, bytes: Buffer.byteLength(code), problems: bundleProblems(result.metafile) };
}

/** What `wrangler deploy` would upload, built without uploading (no Cloudflare account or network needed). */
export async function wranglerDryRun(): Promise<WorkerBundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'tokenladder-wrangler-'));
  try {
    await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
        'deploy',
        '--dry-run',
        '--outdir',
        outdir,
        '--metafile',
        join(outdir, 'meta.json'),
      ],
      { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, timeout: 60_000 },
    );
    const code = await readFile(join(outdir, 'worker.js'), 'utf8');
    const metafile = JSON.parse(await readFile(join(outdir, 'meta.json'), 'utf8')) as Metafile;
    return { code, bytes: Buffer.byteLength(code), problems: bundleProblems(metafile) };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

function bundleProblems(metafile: Metafile): string[] {
  const problems: string[] = [];
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (NODE_ONLY.some((pattern) => pattern.test(path))) problems.push(`Node-only module bundled: ${path}`);
    for (const imported of input.imports) {
      // `<runtime>` is esbuild's own helper for CommonJS, not an import.
      if (
        imported.external &&
        imported.path !== '<runtime>' &&
        !ALLOWED_RUNTIME_IMPORTS.has(imported.path) &&
        !isUnreachableVendorImport(path, imported)
      ) {
        problems.push(`runtime import ${imported.path} (from ${path}) is not available on Workers`);
      }
    }
  }
  return problems;
}

async function gzipKiB(text: string): Promise<number> {
  const compressed = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(compressed).arrayBuffer()).byteLength / 1024;
}

/**
 * What the uploaded Worker may weigh, gzipped, as `wrangler deploy` builds it: Cloudflare's limit is
 * 3 MiB on the free plan (10 MiB paid); the budget keeps it at a fraction of that, so that growth is
 * noticed (and chosen) long before a deploy fails. 2026-12-02: 383 KiB.
 */
export const GZIP_BUDGET_KIB = 512;

async function main() {
  const bundles: [string, WorkerBundle][] = [
    ['esbuild, minified (run by test/workers)', await bundleWorker()],
    ['wrangler deploy --dry-run', await wranglerDryRun()],
  ];
  let failed = false;
  for (const [name, bundle] of bundles) {
    const gzipped = await gzipKiB(bundle.code);
    console.log(
      `worker bundle, ${name}: ${(bundle.bytes / 1024).toFixed(1)} KiB, ${gzipped.toFixed(1)} KiB gzipped`,
    );
    if (name.startsWith('wrangler') && gzipped > GZIP_BUDGET_KIB) {
      failed = true;
      console.error(
        `  over the budget of ${GZIP_BUDGET_KIB} KiB gzipped (scripts/check-worker-bundle.ts): find what grew it, or raise the budget on purpose`,
      );
    }
    if (bundle.problems.length > 0) {
      failed = true;
      console.error(`  not fit for Cloudflare Workers:\n    ${bundle.problems.join('\n    ')}`);
    }
  }
  if (failed) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
