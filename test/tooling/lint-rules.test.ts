import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The layering and cycle rules live in biome.json; these probes lint a scratch tree under the project's
// own configuration and prove the rules can fail, so an edit that silently drops one is caught.
const root = process.cwd();
const biome = join(root, 'node_modules', '.bin', 'biome');
const domainFolders = [
  'accounts',
  'tokens',
  'bases',
  'audit',
  'revocations',
  'incidents',
  'throttle',
  'keys',
  'store',
  'lib',
];
const httpImports = [
  "import { Hono } from 'hono';",
  "import { HTTPException } from 'hono/http-exception';",
  "import { requireAccount } from '../http/auth';",
  "import { apiTokenRoutes } from '../routes/api-tokens';",
  "import { uiRoutes } from '../ui';",
  "import { routeDoc } from '../openapi/route-doc';",
];

// The published libraries (packages/verify, packages/client build src/verify and src/client): what each
// file may import, as [scratch file, import line, allowed]. Everything else of the server is out of reach.
const libraryImports: [string, string, boolean][] = [
  ['src/verify/ok-jose.ts', "import { jwtVerify } from 'jose';", true],
  ['src/verify/ok-own.ts', "import { e } from './errors.js';", true],
  ['src/verify/hono.ts', "import { createMiddleware } from 'hono/factory';", true],
  ['src/verify/hono-own.ts', "import { Hono } from 'hono';", false],
  ['src/verify/server.ts', "import { opaque } from '../tokens/opaque.js';", false],
  ['src/verify/sneaky.ts', "import { opaque } from './../tokens/opaque.js';", false],
  ['src/verify/type-only.ts', "import type { AppConfig } from '../config.js';", false],
  ['src/verify/reexport.ts', "export { revoke } from '../revocations/revoke.js';", false],
  ['src/verify/dynamic.ts', "export const sqlite = await import('../store/sqlite.js');", false],
  ['src/verify/zod.ts', "import { z } from 'zod';", false],
  ['src/verify/node.ts', "import { createHash } from 'node:crypto';", false],
  ['src/client/ok-fetch.ts', "import { createPathBasedClient } from 'openapi-fetch';", true],
  ['src/client/ok-own.ts', "import { unwrap } from './errors.js';", true],
  ['src/client/verify.ts', "import { BaseTokenError } from '../verify/errors.js';", false],
  ['src/client/jose.ts', "import { jwtVerify } from 'jose';", false],
  ['src/client/config.ts', "import { VERSION } from '../config.js';", false],
];

function probe(imports: string[]): string {
  const names = imports.map((line) => /\{ (\w+) \}/.exec(line)?.[1]).join(', ');
  return `${imports.join('\n')}\nexport const used = [${names}];\n`;
}

let dir: string;
let output: string;
/** The diagnostics biome reports for one scratch file, by rule name. */
const rulesFor = (file: string) =>
  [...output.matchAll(new RegExp(`${file.replaceAll('.', '\\.')}:\\d+:\\d+ lint/\\w+/(\\w+)`, 'g'))].map(
    (m) => m[1],
  );

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-lint-'));
  const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8'));
  config.$schema = undefined;
  config.vcs = { enabled: false };
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
  const files: Record<string, string> = {
    'src/routes/probe.ts': probe(httpImports),
    'src/tokens/allowed.ts': probe([
      "import { epochSeconds } from '../clock';",
      "import { AppError } from '../errors';",
    ]),
    'src/cycle/a.ts': "import type { B } from './b';\nexport interface A {\n  b?: B;\n}\n",
    'src/cycle/b.ts': "import type { A } from './a';\nexport interface B {\n  a?: A;\n}\n",
    'src/cycle/c.ts': "import type { A } from './a';\nexport type C = A;\n",
  };
  for (const [path, line] of libraryImports) {
    files[path] = line.startsWith('import') ? probe([line]) : `${line}\n`;
  }
  // Extension-less relative imports break plain Node ESM once compiled: './errors' must be './errors.js'.
  files['src/verify/errors.ts'] = 'export const e = 1;\n';
  files['src/client/errors.ts'] = 'export const unwrap = 1;\n';
  files['src/verify/no-extension.ts'] = probe(["import { e } from './errors';"]);
  files['src/client/no-extension.ts'] = probe(["import { unwrap } from './errors';"]);
  for (const folder of domainFolders) {
    httpImports.forEach((line, i) => {
      files[`src/${folder}/forbidden${i}.ts`] = probe([line]);
    });
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(biome, ['lint', '--colors=off', '--max-diagnostics=1000', 'src'], {
    cwd: dir,
    encoding: 'utf8',
  });
  output = `${run.stdout}${run.stderr}`;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lint rules that keep the layers apart', () => {
  it.each(domainFolders)('src/%s may not import hono, http/, routes/, ui/ or openapi/', (folder) => {
    httpImports.forEach((line, i) => {
      expect(rulesFor(`src/${folder}/forbidden${i}.ts`), line).toContain('noRestrictedImports');
    });
  });

  it('routes may import them, and a domain folder may import the shared core', () => {
    expect(rulesFor('src/routes/probe.ts')).not.toContain('noRestrictedImports');
    expect(rulesFor('src/tokens/allowed.ts')).toEqual([]);
  });

  it('finds an import cycle made of type-only imports, and only in the files on it', () => {
    expect(rulesFor('src/cycle/a.ts')).toContain('noImportCycles');
    expect(rulesFor('src/cycle/b.ts')).toContain('noImportCycles');
    expect(rulesFor('src/cycle/c.ts')).not.toContain('noImportCycles');
  });
});

describe('lint rules that keep the published libraries free of the server', () => {
  it.each(libraryImports)('%s: %s (allowed: %s)', (file, line, allowed) => {
    if (allowed) expect(rulesFor(file), line).toEqual([]);
    else expect(rulesFor(file), line).toContain('noRestrictedImports');
  });

  it('requires the .js extension on relative imports, as plain Node ESM does', () => {
    expect(rulesFor('src/verify/no-extension.ts')).toContain('useImportExtensions');
    expect(rulesFor('src/client/no-extension.ts')).toContain('useImportExtensions');
    expect(rulesFor('src/verify/ok-own.ts')).toEqual([]);
  });
});
