#!/usr/bin/env node
// Runs the built CLI (dist/cli/, bin/build-cli.mjs): `prepare` builds it on npm install / npm ci.
// When the sources changed since (a git pull, an edit), it is rebuilt here first; without esbuild
// (npm ci --omit=dev) the sources run through tsx instead, slower to start, with a one-line notice.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'cli');

/** The built entry if every source it was built from is unchanged, else undefined. */
function freshBuild() {
  try {
    const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
    for (const [path, mtimeMs] of Object.entries(manifest.inputs))
      if (statSync(join(root, path)).mtimeMs !== mtimeMs) return undefined;
    return join(outDir, manifest.entry);
  } catch {
    return undefined;
  }
}

let entry = freshBuild();
if (entry === undefined) {
  let buildCli;
  try {
    ({ buildCli } = await import('./build-cli.mjs'));
    await import('esbuild');
  } catch {
    buildCli = undefined;
  }
  if (buildCli) {
    try {
      entry = (await buildCli()).entry;
    } catch (error) {
      process.stderr.write(`tokenladder: building the CLI failed (${error.message}); using tsx\n`);
    }
  } else
    process.stderr.write(
      'tokenladder: no up-to-date build in dist/cli and no esbuild to make one (npm ci --omit=dev?): running the sources through tsx, slower to start\n',
    );
}

if (entry !== undefined) await import(pathToFileURL(entry).href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
