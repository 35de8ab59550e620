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
          exclude: ['test/grants/**'],
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
    ],
  },
});
