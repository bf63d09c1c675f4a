import { defineConfig } from 'vitest/config';

// Two projects: `fast` is the edit loop (`npm run test:fast`), in-process tests only; `slow` holds the
// tests that start processes, workerd or a browser. `npm test` runs both.
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
    ],
  },
});
