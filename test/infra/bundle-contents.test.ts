import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '#platform/routes.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FUNCTIONS: FunctionName[] = ['send', 'verify', 'answer', 'hangup', 'events', 'deliver'];

/**
 * Which of lib's catalogs and store modules each function's bundle carries. Bundle size is part of a cold
 * start (issue 16: every function but send within 1.3× the DynamoDB-only floor), and a module one function
 * needs creeps into the others through one import; this pins the split. esbuild as the stack bundles
 * (infra/service-function.ts), without the phone-metadata alias, which changes no lib module.
 */
const STORE = {
  verifications: 'lib/store/dynamodb-verifications.ts',
  phones: 'lib/store/dynamodb-phones.ts',
  counters: 'lib/store/dynamodb-counters.ts',
  idempotency: 'lib/store/dynamodb-idempotency.ts',
  webhooks: 'lib/store/dynamodb-webhooks.ts',
};
const VOICE = 'lib/channels/voice-prompts.ts';
const SMS = 'lib/channels/sms-words.ts';

const CARRIES: Record<FunctionName, { carries: string[]; not: string[] }> = {
  send: { carries: [SMS, ...Object.values(STORE)], not: [VOICE] },
  verify: { carries: [STORE.verifications, STORE.phones], not: [VOICE, SMS] },
  answer: {
    carries: [VOICE, STORE.verifications],
    not: [SMS, STORE.phones, STORE.counters, STORE.idempotency, STORE.webhooks],
  },
  hangup: {
    carries: [SMS, STORE.verifications, STORE.counters],
    not: [VOICE, STORE.phones, STORE.idempotency, STORE.webhooks],
  },
  events: {
    carries: [STORE.counters, STORE.webhooks],
    not: [VOICE, SMS, STORE.verifications, STORE.phones, STORE.idempotency],
  },
  deliver: {
    carries: [STORE.webhooks],
    not: [VOICE, SMS, STORE.verifications, STORE.phones, STORE.counters, STORE.idempotency],
  },
};

let carried: Record<string, Set<string>>;

beforeAll(async () => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: FUNCTIONS.map((name) => `functions/${name}.ts`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    metafile: true,
    write: false,
    outdir: 'out',
    logLevel: 'silent',
  });
  carried = bundleInputs(result.metafile);
}, 60_000);

/** Each entry's inputs that put bytes into its output. */
function bundleInputs(metafile: Metafile): Record<string, Set<string>> {
  const byEntry: Record<string, Set<string>> = {};
  for (const output of Object.values(metafile.outputs)) {
    if (!output.entryPoint) continue;
    const inputs = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0);
    byEntry[output.entryPoint] = new Set(inputs.map(([path]) => path));
  }
  return byEntry;
}

describe('what each function bundle carries', () => {
  it.each(FUNCTIONS)('%s carries its own prompts and store modules, not the others', (name) => {
    const inputs = carried[`functions/${name}.ts`];
    expect(inputs, name).toBeDefined();
    const { carries, not } = CARRIES[name];
    expect(
      { carries: carries.filter((module) => inputs?.has(module)), not: not.filter((m) => inputs?.has(m)) },
      name,
    ).toEqual({ carries, not: [] });
  });
});
