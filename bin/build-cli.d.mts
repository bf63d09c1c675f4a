/** Types of bin/build-cli.mjs, for test/setup/build-cli.ts. */
export declare const ROOT: string;
export declare const OUT_DIR: string;
export declare const MANIFEST: string;
/** Builds dist/cli/ (or `outDir`); the entry's absolute path and the packages it loads at start. */
export declare function buildCli(options?: { outDir?: string }): Promise<{
  entry: string;
  staticPackages: string[];
}>;
