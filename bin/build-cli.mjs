// Builds the `tokenladder` command to JavaScript: dist/cli/tokenladder-<hash>.mjs and its lazily loaded
// chunks, plus dist/cli/manifest.json (the entry, and each source file's mtime, so bin/tokenladder.mjs
// can tell a stale build). Run by `npm run build:cli`, by `prepare` (npm install / npm ci), and by
// bin/tokenladder.mjs itself when the sources changed since the last build.
//
//   node bin/build-cli.mjs              build, exit 1 on failure
//   node bin/build-cli.mjs --optional   prepare: without esbuild (npm ci --omit=dev) say so and exit 0
//
// dist/cli/ is two levels below the repository like src/<area>/, so paths the sources compute from
// import.meta.url (`new URL('../../migrations', import.meta.url)`) resolve the same when bundled.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(ROOT, 'dist', 'cli');
export const MANIFEST = join(OUT_DIR, 'manifest.json');

/** Writes a file whole or not at all: a concurrent reader never sees half of it. */
function writeAtomically(path, contents) {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/**
 * Bundles src/cli.ts (code splitting: the entry holds commander and the client commands; the server,
 * the verifier and jose load only when a command needs them); npm packages stay external.
 * Returns the entry's absolute path and the npm packages its static import graph loads.
 */
export async function buildCli({ outDir = OUT_DIR } = {}) {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { tokenladder: join(ROOT, 'src', 'cli.ts') },
    outdir: outDir,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.json'),
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  // Content-hashed names: concurrent builds of the same sources write the same files.
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((path) => outputs[path].entryPoint !== undefined);
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs).map((path) => [path, statSync(join(ROOT, path)).mtimeMs]),
  );
  const manifest = {
    entry: relative(outDir, join(ROOT, entry)),
    built_at: new Date().toISOString(),
    static_packages: staticPackages(outputs, entry),
    inputs,
  };
  writeAtomically(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  removeOldOutputs(outDir, new Set(Object.keys(outputs).map((path) => join(ROOT, path))));
  return { entry: join(ROOT, entry), staticPackages: manifest.static_packages };
}

/** The npm packages and node: modules loaded before any command runs (the entry's static imports, transitively). */
function staticPackages(outputs, entry) {
  const seen = new Set();
  const packages = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of outputs[path]?.imports ?? []) {
      if (imported.kind !== 'import-statement') continue;
      if (imported.external) packages.add(imported.path);
      else visit(imported.path);
    }
  };
  visit(entry);
  return [...packages].sort();
}

/** Outputs of earlier builds, once they are old enough that no running command still loads chunks from them. */
function removeOldOutputs(outDir, keep) {
  const cutoff = Date.now() - 10 * 60 * 1000;
  for (const name of readdirSync(outDir)) {
    const path = join(outDir, name);
    if (name === 'manifest.json' || keep.has(path)) continue;
    try {
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
    } catch {
      // Removed by a concurrent build.
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const optional = process.argv.includes('--optional');
  try {
    await import('esbuild');
  } catch {
    const message = 'tokenladder: esbuild is not installed (npm ci --omit=dev?): the CLI is not built';
    if (!optional) {
      console.error(`${message}; install the dev dependencies and run npm run build:cli`);
      process.exit(1);
    }
    console.error(
      `${message}; bin/tokenladder.mjs will run the TypeScript sources through tsx (slower start)`,
    );
    process.exit(0);
  }
  if (!existsSync(dirname(OUT_DIR))) mkdirSync(dirname(OUT_DIR), { recursive: true });
  const { entry, staticPackages: loaded } = await buildCli();
  console.error(`tokenladder: built ${relative(ROOT, entry)} (loads at start: ${loaded.join(', ')})`);
}
