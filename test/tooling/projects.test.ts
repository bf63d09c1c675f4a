import { readdirSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
import { expect, it } from 'vitest';
import config from '../../vitest.config';

// Projects that rerun files another project owns on another store (`postgres`: the in-process
// security suites with every test app on PostgreSQL). They own nothing themselves.
const RERUNS = ['postgres'];

// A test file that no project includes would never run, and nothing would say so.
it('every test file belongs to exactly one vitest project, and a rerun project reruns only owned files', () => {
  const root = process.cwd();
  const files = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => relative(root, join(root, 'test', file)));
  const projects = (config.test?.projects ?? []) as {
    test: { name: string; include: string[]; exclude?: string[] };
  }[];
  const includes = (project: (typeof projects)[number], file: string) =>
    project.test.include.some((glob) => matchesGlob(file, glob)) &&
    !(project.test.exclude ?? []).some((glob) => matchesGlob(file, glob));
  const owning = projects.filter((project) => !RERUNS.includes(project.test.name));
  const reruns = projects.filter((project) => RERUNS.includes(project.test.name));
  const owners = (file: string) => owning.filter((project) => includes(project, file)).length;
  expect(files.length).toBeGreaterThan(40);
  expect(files.filter((file) => owners(file) !== 1)).toEqual([]);
  expect(reruns.map((project) => project.test.name)).toEqual(RERUNS);
  for (const rerun of reruns) {
    const rerunFiles = files.filter((file) => includes(rerun, file));
    expect(rerunFiles.length, `${rerun.test.name} reruns no file`).toBeGreaterThan(0);
    // A rerun of a file `fast` does not own would be a file that runs only in the rerun.
    const fast = projects.find((project) => project.test.name === 'fast')!;
    expect(rerunFiles.filter((file) => !includes(fast, file))).toEqual([]);
  }
});
