// Vitest globalSetup of the `slow` project: builds the CLI as `npm run build:cli` does (bin/build-cli.mjs →
// dist/cli/), once per run, before any test spawns it. The tests then run what users run:
// bin/tokenladder.mjs finds the build fresh and imports it; `cliBundle` is the built entry itself.
import { buildCli } from '../../bin/build-cli.mjs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built CLI's entry (run it with `node`); see bin/build-cli.mjs. */
    cliBundle: string;
    /** The npm packages and node: modules the built CLI loads before any command runs. */
    cliStaticPackages: string[];
  }
}

export default async function buildCliOnce(project: TestProject) {
  const { entry, staticPackages } = await buildCli();
  project.provide('cliBundle', entry);
  project.provide('cliStaticPackages', staticPackages);
}
