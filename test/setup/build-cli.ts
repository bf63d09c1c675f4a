// Vitest globalSetup of the `slow` project: bundles src/cli.ts once per run, so the process tests spawn
// `node <bundle>` (~0.2 s) instead of cold-starting tsx through bin/tokenladder.mjs (~2.7 s) for every command.
// bin/tokenladder.mjs itself stays covered: the servers the e2e tests start run through it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { ROOT } from '../helpers/processes';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The path of the bundled CLI (run it with `node`); see test/setup/build-cli.ts. */
    cliBundle: string;
  }
}

/**
 * Keeps `import.meta.url` pointing at each source file, so paths computed from it (the migrations
 * directory) resolve as they do when tsx runs the sources.
 */
const sourceUrls: Plugin = {
  name: 'source-import-meta-url',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: args.path.endsWith('x') ? 'tsx' : 'ts',
    }));
  },
};

export default async function buildCli(project: TestProject) {
  // Inside the project, so the bundle's external imports resolve from its node_modules.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'tokenladder-cli-'));
  const outfile = join(dir, 'cli.mjs');
  await build({
    entryPoints: [join(ROOT, 'src', 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.json'),
    plugins: [sourceUrls],
    logLevel: 'warning',
  });
  project.provide('cliBundle', outfile);
  return () => rmSync(dir, { recursive: true, force: true });
}
