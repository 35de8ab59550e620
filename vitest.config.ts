import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that need a browser, or other optional programs, say so when they skip.
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts', 'clients/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
          exclude: ['test/grants/**', 'test/e2e/first-burst.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/contract-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      // After the whole suite, from what its handlers issued (test/support/dynamodb-commands.ts).
      {
        extends: true,
        test: { name: 'grants', include: ['test/grants/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
      // Last and alone: a burst right after `npm start` is ready, on a machine doing nothing else, as a
      // developer's first test run meets it (on 2 cores, beside the suite's own stacks it measures the load).
      {
        extends: true,
        test: {
          name: 'alone',
          include: ['test/e2e/first-burst.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/contract-setup.ts'],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
