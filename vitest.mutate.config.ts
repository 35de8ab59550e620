import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests `npm run mutate` (stryker.config.mjs) runs: unit and integration, which load the mutated modules
 * in the test process. The e2e tests run them in a child process Stryker cannot switch mutants in, and the
 * infra tests never run them.
 */
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'] },
});
