import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfiguration } from '../../scripts/render-config';
import { envSchema, SETTINGS } from '../../src/config';
import { ROOT } from '../helpers/processes';

// Issue 15, "docs that fit": docs/configuration.md is generated from the config schema (src/config.ts),
// so the page cannot name a setting the code does not read, miss one it reads, or show a stale default.
describe('docs/configuration.md', () => {
  const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');

  it('is what `npm run docs:config` writes from src/config.ts', () => {
    expect(page, 'docs/configuration.md is out of date: run npm run docs:config').toBe(renderConfiguration());
  });

  it('describes every variable the schema reads, with its schema default', () => {
    const defaults = envSchema.parse({}) as Record<string, unknown>;
    for (const name of Object.keys(envSchema.shape)) {
      expect(Object.keys(SETTINGS), name).toContain(name);
      expect(page, name).toContain(`### \`${name}\``);
      if (defaults[name] !== undefined) expect(page).toContain(`Default: \`${String(defaults[name])}\`.`);
    }
  });

  it('wraps its prose at 100 columns (tables aside)', () => {
    const long = page.split('\n').filter((line) => line.length > 100 && !line.startsWith('|'));
    expect(long).toEqual([]);
  });
});
