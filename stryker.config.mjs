// @ts-check
/**
 * npm run mutate: mutation testing of the security modules with StrykerJS. Not part of npm test: it takes
 * tens of minutes on 2 cores. Narrow it to a module with `npm run mutate -- --mutate lib/verification/codes.ts`.
 * Reports land in reports/mutation/ (html, json) and on the console.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  mutate: [
    'lib/verification/codes.ts',
    'lib/verification/seal.ts',
    'lib/platform/keyring.ts',
    'lib/channels/plivo-signature.ts',
    'lib/abuse/abuse.ts',
    'lib/verification/verifications.ts',
    'lib/verification/idempotency.ts',
    'lib/events/webhook-delivery.ts',
    'lib/events/webhook-url.ts',
    'lib/events/app-webhooks.ts',
  ],
  testRunner: 'vitest',
  // Related mode finds no test for a module through our `.ts` imports, so static mutants would run none.
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  // Only the tests that reach a mutant run for it.
  coverageAnalysis: 'perTest',
  // Module-level constants would rerun every test for each mutant (86 % of the time in abuse.ts,
  // verifications.ts and idempotency.ts); their values are pinned by the tests that read them.
  ignoreStatic: true,
  concurrency: 2,
  // The machine is shared: allow slow runs before calling a mutant a timeout.
  timeoutMS: 10_000,
  // Stryker rewrites this tsconfig through TypeScript's JS API, which TypeScript 7 no longer has; ours has
  // no extends or references to rewrite.
  tsconfigFile: '',
  ignorePatterns: ['cdk.out', 'bench/out', 'reports', 'test-results', 'coverage'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false },
  // The goal is 85 % per module (docs/development.md, "Mutation testing").
  thresholds: { high: 90, low: 85, break: null },
};
