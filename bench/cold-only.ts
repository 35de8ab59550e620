import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchedFunction, BuildInput, BuildOutput } from './build-bundles.ts';
import { measureBundle } from './bundle-sizes.ts';
import { measureColdStarts } from './cold-start.ts';
import { checkDeliveries, coldTargets, prepareColdEvents } from './cold-targets.ts';
import { bundleRows, coldRows, RATIO_TARGETS } from './results.ts';
import { SMS_SEND } from './routes.ts';
import { runStandalone } from './standalone.ts';
import { runWorker } from './worker.ts';

/**
 * `npm run bench:cold [-- --samples 5]`: just the bundle and cold-start phases of `npm run bench`, for
 * iterating on bundle size, cold start and peak RSS. Same bundles, same targets and events, with the
 * deployed NODE_OPTIONS; prints each function's three ratios to the floor against its target. Figures for
 * the record come from `npm run bench`.
 */
const { values: options } = parseArgs({ options: { samples: { type: 'string', default: '5' } } });
const samples = Number(options.samples);

const progress = (line: string) => process.stderr.write(`${line}\n`);
await runStandalone('bench-cold', { createTable: true }, async ({ plivo, env }) => {
  const build = await runWorker<BuildInput, BuildOutput>(
    new URL('./build-bundles.ts', import.meta.url),
    { outdir: fileURLToPath(new URL('./out/cdk', import.meta.url)) },
    { progress, timeoutMs: 180_000 },
  );
  const bundles = bundleRows(build.bundles.map(measureBundle));
  const events = await prepareColdEvents(env, plivo, samples);
  const deployed = { ...env, NODE_OPTIONS: build.nodeOptions };
  const cold = coldRows(
    await measureColdStarts(coldTargets(build.bundles, events, deployed), samples, {
      firstSample: 0,
      label: 'cold starts',
      progress,
    }),
  );
  checkDeliveries(plivo, samples);
  const f = (n: number) => n.toFixed(2).padStart(5);
  for (const row of cold) {
    const bundle = bundles.find((b) => b.name === row.name);
    // The send function sending an SMS is held to send's targets; Node alone and the floor to none.
    const target = row.name === SMS_SEND ? RATIO_TARGETS.send : RATIO_TARGETS[row.name as BenchedFunction];
    const ratios = [bundle?.ratio ?? 0, row.ratio, row.rssRatio];
    const verdict = target ? `   ≤ ${target}× ${ratios.some((r) => r > target) ? 'MISSED' : 'met'}` : '';
    console.log(
      `${row.name.padEnd(9)} bundle ${String(bundle?.bytes ?? '-').padStart(7)} B ${bundle ? f(bundle.ratio) : '    -'}×` +
        `   cold ${f(row.totalMs.p50)} ms ${f(row.ratio)}× (import ${f(row.importMs.p50)}, first invoke ${f(row.invokeMs.p50)})` +
        `   rss ${f(row.peakRssMiB.p50)} MiB ${f(row.rssRatio)}×${verdict}`,
    );
  }
});
