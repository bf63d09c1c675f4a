// The verifier must run on Workers: only jose and relative imports, no node: modules, and hono
// confined to the separate ./hono entry point.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '../../src/verify');
const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
// Comments are left out: the JSDoc examples import from '@tokenladder/verify', as a user's code does.
const importsOf = (name: string) =>
  [
    ...readFileSync(join(dir, name), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g),
  ].map((m) => m[1]!);

describe('src/verify imports', () => {
  it('has files to check', () => {
    expect(files).toContain('index.ts');
    expect(files).toContain('hono.ts');
  });

  it.each(files)('%s imports only jose, relative modules and (hono.ts only) hono', (name) => {
    const allowed = name === 'hono.ts' ? /^(?:\.\/|jose$|hono(?:\/factory)?$)/ : /^(?:\.\/|jose$)/;
    for (const specifier of importsOf(name)) expect(specifier).toMatch(allowed);
  });

  it('index.ts does not re-export the hono middleware', () => {
    expect(importsOf('index.ts').filter((specifier) => /^\.\/hono(?:\.js)?$/.test(specifier))).toEqual([]);
  });
});
