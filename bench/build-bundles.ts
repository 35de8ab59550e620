import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { FunctionName } from '#platform/routes.ts';
import { FUNCTION_ACCESS } from '../infra/function-access.ts';
import { bundledCode, SERVICE_NODE_OPTIONS } from '../infra/service-function.ts';
import { readSettings } from '../infra/settings.ts';
import { functionSizing } from '../infra/voice-otp-stack.ts';

/** Every function of the stack is benched. */
export type BenchedFunction = FunctionName;

import { serveWorker } from './worker.ts';

/**
 * Builds every function's bundle and the floor's with CDK's own NodejsFunction bundling and the
 * stack's own props (infra/service-function.ts `bundledCode`), so each bundle is byte for byte what
 * `cdk deploy` uploads; only esbuild's metafile is added, which changes no output. Also reads from the
 * stack's code what the cost model needs: each function's memory size and the secrets it reads.
 */
export const FUNCTIONS: readonly BenchedFunction[] = [
  'send',
  'verify',
  'answer',
  'hangup',
  'events',
  'deliver',
];

export interface BuiltBundle {
  name: BenchedFunction | 'floor';
  /** index.mjs, with index.mjs.map and index.meta.json beside it. */
  file: string;
}

export interface BuildOutput {
  bundles: BuiltBundle[];
  memoryMb: Record<BenchedFunction, number>;
  secrets: Record<BenchedFunction, string[]>;
  nodeOptions: string;
}

export interface BuildInput {
  outdir: string;
}

const projectFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export function buildBundles({ outdir }: BuildInput): BuildOutput {
  rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  const stack = new Stack(app, 'VoiceOtpBench');
  // The stack's defaults, as a deploy without settings has them: ALLOWED_COUNTRIES is the default list.
  const settings = readSettings(() => undefined);
  const entries: Array<[BuiltBundle['name'], string]> = [
    ['floor', projectFile('bench/floor-handler.ts')],
    ...FUNCTIONS.map((name): [BenchedFunction, string] => [name, projectFile(`functions/${name}.ts`)]),
  ];
  const bundles = entries.map(([name, entry]) => {
    const code = bundledCode(entry, settings.service.abuse.allowedCountries);
    const fn = new NodejsFunction(stack, name, { ...code, bundling: { ...code.bundling, metafile: true } });
    const asset = fn.node.findChild('Code') as Asset;
    return { name, file: join(outdir, asset.assetPath, 'index.mjs') };
  });
  const sizing = functionSizing(settings);
  const byFunction = <T>(pick: (name: BenchedFunction) => T) =>
    Object.fromEntries(FUNCTIONS.map((name) => [name, pick(name)])) as Record<BenchedFunction, T>;
  return {
    bundles,
    memoryMb: byFunction((name) => sizing[name].memorySize),
    secrets: byFunction((name) => [...FUNCTION_ACCESS[name].secrets]),
    nodeOptions: SERVICE_NODE_OPTIONS,
  };
}

if (process.send) serveWorker<BuildInput, BuildOutput>(async (input) => buildBundles(input));
