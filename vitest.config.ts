import { defineConfig } from 'vitest/config';

// Four projects: `fast` is the edit loop (`npm run test:fast`), in-process tests only; `postgres` reruns the
// in-process security suites on PostgreSQL; `slow` holds the
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
          // The in-process suites that go through HTTP only, again on PostgreSQL: every test app gets a
          // database of its own on the server test/helpers/postgres.ts names. (The store contract, the
          // chain scenario and the concurrency test run on PostgreSQL in `fast` already.)
          name: 'postgres',
          include: [
            'test/security/{escalation,jwt,input,credentials,hardening,opaque,concurrency,fuzz,oauth}.test.ts',
          ],
          env: { TOKENLADDER_TEST_STORE: 'postgres' },
          setupFiles: ['test/setup/postgres-store.ts'],
          // Dropping a file's databases at the end takes a while on a busy machine.
          hookTimeout: 60_000,
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
