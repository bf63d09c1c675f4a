import { defineConfig } from 'vitest/config';

// Three projects: `fast` is the edit loop (`npm run test:fast`), in-process tests only; `slow` holds the
// tests that start processes, workerd or a browser; `cluster` the multi-instance harness (several
// `tokenladder serve` over one PostgreSQL database, faults injected; test/cluster/). `npm test` runs all.
export default defineConfig({
  test: {
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/{unit,http,security,verify,client,store,tooling,guarantees}/**/*.test.ts'],
          // Starts tokenladder processes (serve, migrate) about a dozen times; the model test's second process.
          exclude: ['test/security/process.test.ts', 'test/guarantees/model-processes.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: [
            'test/{e2e,workers,browser}/**/*.test.ts',
            'test/security/process.test.ts',
            'test/guarantees/model-processes.test.ts',
          ],
          globalSetup: ['test/setup/build-cli.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/setup/build-cli.ts'],
          // Each file starts several servers (and a PostgreSQL of its own): one file at a time on 2 cores.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
