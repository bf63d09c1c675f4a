import { readdirSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
import { expect, it } from 'vitest';
import config from '../../vitest.config';

// A test file that no project includes would never run, and nothing would say so.
it('every test file belongs to exactly one vitest project', () => {
  const root = process.cwd();
  const files = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => relative(root, join(root, 'test', file)));
  const projects = (config.test?.projects ?? []) as { test: { include: string[]; exclude?: string[] } }[];
  const owners = (file: string) =>
    projects.filter(
      ({ test }) =>
        test.include.some((glob) => matchesGlob(file, glob)) &&
        !(test.exclude ?? []).some((glob) => matchesGlob(file, glob)),
    ).length;
  expect(files.length).toBeGreaterThan(40);
  expect(files.filter((file) => owners(file) !== 1)).toEqual([]);
});
