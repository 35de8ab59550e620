import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests `npm run mutate` (stryker.config.mjs) runs: unit and integration, which load the mutated modules
 * in the test process. The e2e tests run them in a child process Stryker cannot switch mutants in, and the
 * infra tests never run them. One project, not the base's two: a project extending this one would add its
 * include to ours (e2e), and the grants project has no DynamoDB Local.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: undefined,
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    // It lists the Markdown files with git, and Stryker's sandbox is no git checkout; it loads no lib/ module.
    exclude: [...configDefaults.exclude, 'test/unit/docs.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
  },
});
