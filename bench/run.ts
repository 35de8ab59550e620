import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { newKeyRingSecret } from '#platform/keyring.ts';
import { readSettings } from '../infra/settings.ts';
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import type { BuildInput, BuildOutput } from './build-bundles.ts';
import { measureBundle } from './bundle-sizes.ts';
import { measureColdStarts } from './cold-start.ts';
import { checkDeliveries, coldTargets, prepareColdEvents } from './cold-targets.ts';
import {
  type CostInput,
  costPerVerification,
  SMS_VERIFICATION,
  type StageCost,
  VOICE_VERIFICATION,
} from './cost.ts';
import { BENCH_SETTINGS, functionEnvironment, type LocalResources } from './environment.ts';
import { describeMachine } from './machine.ts';
import type { PipelineInput, PipelineOutput } from './pipeline.ts';
import { type PlivoApi, startPlivoApi } from './plivo-simulator.ts';
import { renderMarkdown, renderText } from './report.ts';
import {
  bundleRows,
  coldRows,
  evaluateTargets,
  type Results,
  type RunSettings,
  roundTripRows,
  warmRows,
} from './results.ts';
import { FUNCTION_OF, type WarmRoute } from './routes.ts';
import { SCALE_CONCURRENCY, SCALE_SHARDS, SCALE_SIZES, type ScaleInput, type ScaleOutput } from './scale.ts';
import { describeSource } from './source.ts';
import type { ThroughputInput, ThroughputOutput } from './throughput.ts';
import type { WarmInput, WarmOutput } from './warm.ts';
import { runWorker } from './worker.ts';

/**
 * `npm run bench`: bundle size, cold start, memory, warm latency, round trips, throughput and cost, each
 * against a floor measured in the same run. Starts DynamoDB Local and the Plivo simulator itself and stops
 * everything it started, also when interrupted. Tables go to stdout, progress to stderr.
 */
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    markdown: { type: 'string' },
  },
});

const bench = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const SIZES = options.quick
  ? {
      cold: 3,
      coldWithoutMaps: 2,
      warm: 100,
      warmup: 20,
      throughput: 300,
      throughputWarmup: 50,
      pipeline: 10,
    }
  : {
      cold: 20,
      coldWithoutMaps: 15,
      warm: 2000,
      warmup: 100,
      throughput: 2000,
      throughputWarmup: 200,
      pipeline: 50,
    };
const CONCURRENCY = 32;
const VERIFICATIONS_PER_MONTH = 1_000_000;
const PUBLIC_URL = 'https://voice-otp.bench.invalid/prod';
const resultsFile = options.out ?? bench(options.quick ? './out/results-quick.json' : './results.json');
// A full run that writes bench/results.json rewrites the page made from it too; elsewhere only when asked.
const markdownFile =
  options.markdown ?? (options.out || options.quick ? undefined : bench('../docs/performance.md'));

const started = performance.now();
const progress = (line: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

const running: { dynamodb?: DynamoDbLocal; plivo?: PlivoApi } = {};
async function stopAll() {
  const { dynamodb, plivo } = running;
  running.dynamodb = undefined;
  running.plivo = undefined;
  await plivo?.stop();
  await dynamodb?.stop();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

async function main(): Promise<Results> {
  const machine = describeMachine();
  progress(`building bundles with the stack's CDK bundling (${machine.cpu}, ${machine.cores} cores)`);
  const build = await runWorker<BuildInput, BuildOutput>(
    new URL('./build-bundles.ts', import.meta.url),
    { outdir: bench('./out/cdk') },
    { progress, timeoutMs: 180_000 },
  );
  const bundles = bundleRows(build.bundles.map(measureBundle));

  progress('starting DynamoDB Local and the Plivo simulator');
  running.dynamodb = await startDynamoDbLocal();
  running.plivo = await startPlivoApi();
  const keyRingSecret = newKeyRingSecret();
  const dynamodb = running.dynamodb;
  // Only the events and throughput (the whole local stack) phases read the table's stream. DynamoDB Local
  // keeps every record of a stream and its writes slow as it grows: warm send took 57 ms at p50 with one.
  const environment = async (tableName: string, { stream = false } = {}) => {
    await createTable(dynamodb, tableName, { stream });
    const local: LocalResources = {
      dynamodb,
      tableName,
      publicUrl: PUBLIC_URL,
      keyRingSecret,
      plivo: {
        apiUrl: running.plivo?.apiUrl ?? '',
        authId: running.plivo?.authId ?? '',
        authToken: running.plivo?.authToken ?? '',
      },
    };
    return functionEnvironment(local);
  };

  // Cold starts: every event prepared first, then one process per sample.
  const coldEnv = await environment('bench-cold');
  const coldTotal = SIZES.cold + SIZES.coldWithoutMaps;
  progress(`cold starts: preparing ${coldTotal} events per function`);
  const events = await prepareColdEvents(coldEnv, running.plivo, coldTotal);
  const deployed = { ...coldEnv, NODE_OPTIONS: build.nodeOptions };
  const coldStart = await measureColdStarts(coldTargets(build.bundles, events, deployed), SIZES.cold, {
    firstSample: 0,
    label: `cold starts (NODE_OPTIONS=${build.nodeOptions})`,
    progress,
  });
  const withoutMaps = await measureColdStarts(
    coldTargets(build.bundles, events, coldEnv).filter((t) => t.name !== 'node'),
    SIZES.coldWithoutMaps,
    { firstSample: SIZES.cold, label: 'cold starts without source maps', progress },
  );
  checkDeliveries(running.plivo, coldTotal);

  progress(`warm latency: ${SIZES.warm} invocations per route`);
  const warm = await runWorker<WarmInput, WarmOutput>(
    new URL('./warm.ts', import.meta.url),
    { env: await environment('bench-warm'), invocations: SIZES.warm, warmup: SIZES.warmup },
    { progress, timeoutMs: 1_800_000 },
  );

  progress(`throughput: ${SIZES.throughput} checks, ${CONCURRENCY} in flight`);
  const throughput = await runWorker<ThroughputInput, ThroughputOutput>(
    new URL('./throughput.ts', import.meta.url),
    {
      // The whole local stack runs here, its stream reader included.
      env: await environment('bench-throughput', { stream: true }),
      concurrency: CONCURRENCY,
      requests: SIZES.throughput,
      warmup: SIZES.throughputWarmup,
    },
    { progress, timeoutMs: 300_000 },
  );

  progress(`events and deliveries: ${SIZES.pipeline} voice and ${SIZES.pipeline} SMS verifications`);
  const pipeline = await runWorker<PipelineInput, PipelineOutput>(
    new URL('./pipeline.ts', import.meta.url),
    {
      // The bench's receiver listens on 127.0.0.1, as the local stack's do.
      env: { ...(await environment('bench-pipeline', { stream: true })), WEBHOOK_ALLOW_LOCALHOST: 'true' },
      verifications: SIZES.pipeline,
    },
    { progress, timeoutMs: 900_000 },
  );

  const scaleSize = options.quick ? SCALE_SIZES.quick : SCALE_SIZES.full;
  progress(
    `scale: ${scaleSize.sends} sends, ${SCALE_CONCURRENCY} in flight, ${SCALE_SHARDS} counter shards and 1`,
  );
  const scale = await runWorker<ScaleInput, ScaleOutput>(
    new URL('./scale.ts', import.meta.url),
    {
      env: await environment('bench-scale'),
      ...scaleSize,
      concurrency: SCALE_CONCURRENCY,
      shards: SCALE_SHARDS,
    },
    { progress, timeoutMs: 1_800_000 },
  );

  const warmByRoute = Object.fromEntries(warm.routes.map((route) => [route.route, route]));
  const memoryOf = (route: WarmRoute) => build.memoryMb[FUNCTION_OF[route]];
  const costInput: CostInput = {
    verificationsPerMonth: VERIFICATIONS_PER_MONTH,
    durationMs: Object.fromEntries(warm.routes.map((r) => [r.route, r.latencyMs.p50])),
    // Lambda gives a function 1 vCPU at 1,769 MB and a proportional share below: CPU time stretches.
    cpuScaledDurationMs: Object.fromEntries(
      warm.routes.map((r) => [r.route, r.latencyMs.p50 + r.cpuMs * (1769 / memoryOf(r.route) - 1)]),
    ),
    memoryMb: build.memoryMb,
    capacity: Object.fromEntries(Object.entries(warmByRoute).map(([route, r]) => [route, r.capacity])),
    secrets: build.secrets,
    logBytes: Object.fromEntries(warm.routes.map((r) => [r.route, r.logBytes])),
    smsSegments: warm.smsSegments,
    flows: { voice: pipeline.voice, sms: pipeline.sms },
    waf: readSettings(() => undefined).waf.enabled,
    eventsRecord: stageCost(pipeline.eventsRecord, build.memoryMb.events),
    delivery: stageCost(pipeline.delivery, build.memoryMb.deliver),
  };

  const settings: RunSettings = {
    coldSamples: SIZES.cold,
    coldSamplesWithoutSourceMaps: SIZES.coldWithoutMaps,
    warmInvocations: SIZES.warm,
    warmup: SIZES.warmup,
    throughputRequests: SIZES.throughput,
    throughputConcurrency: CONCURRENCY,
    nodeOptions: build.nodeOptions,
    environment: BENCH_SETTINGS,
  };
  const partial: Omit<Results, 'targets'> = {
    generatedAt: new Date().toISOString(),
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine,
    source: describeSource(),
    settings,
    bundles,
    coldStart: {
      nodeOptions: build.nodeOptions,
      rows: coldRows(coldStart),
      withoutSourceMaps: coldRows(withoutMaps),
    },
    warm: warmRows(warm),
    roundTrips: roundTripRows(warm),
    throughput: {
      ...throughput,
      ratio: Number(
        (throughput.checks.requestsPerSecond / throughput.rawUpdateItem.requestsPerSecond).toFixed(2),
      ),
    },
    scale,
    memoryMb: build.memoryMb,
    pipeline,
    cost: costPerVerification(VOICE_VERIFICATION, costInput),
    smsCost: costPerVerification(SMS_VERIFICATION, costInput),
  };
  return { ...partial, targets: evaluateTargets(partial) };
}

/** A pipeline stage as the cost model prices it: p50 duration, and CPU time scaled as the routes' are. */
const stageCost = (stage: PipelineOutput['eventsRecord'], memoryMb: number): StageCost => ({
  durationMs: stage.latencyMs.p50,
  cpuScaledDurationMs: stage.latencyMs.p50 + stage.cpuMs * (1769 / memoryMb - 1),
  readUnits: stage.capacity.readUnits,
  writeUnits: stage.capacity.writeUnits,
  logBytes: stage.logBytes,
});

try {
  const results = await main();
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${renderText(results)}\n`);
  if (markdownFile) {
    mkdirSync(dirname(markdownFile), { recursive: true });
    writeFileSync(markdownFile, renderMarkdown(results));
  }
  progress(`wrote ${resultsFile}${markdownFile ? ` and ${markdownFile}` : ''}`);
} catch (error) {
  process.exitCode = 1;
  console.error(error);
} finally {
  await stopAll();
}
