import { parseArgs } from 'node:util';
import { renderScaleText } from './report.ts';
import { SCALE_CONCURRENCY, SCALE_SHARDS, SCALE_SIZES, type ScaleInput, type ScaleOutput } from './scale.ts';
import { runStandalone } from './standalone.ts';
import { runWorker } from './worker.ts';

/**
 * `npm run bench:scale -- [--quick] [--shards N]`: just the scale phase of `npm run bench` (bench/scale.ts), with
 * DynamoDB Local and the Plivo simulator started here and the passes in a worker (its logs go nowhere).
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shards: { type: 'string', default: String(SCALE_SHARDS) },
  },
});
const progress = (line: string) => process.stderr.write(`${line}\n`);
// The worker creates its own tables, one per pass.
await runStandalone('bench-scale', { createTable: false }, async ({ env }) => {
  const output = await runWorker<ScaleInput, ScaleOutput>(
    new URL('./scale.ts', import.meta.url),
    {
      env,
      ...(values.quick ? SCALE_SIZES.quick : SCALE_SIZES.full),
      concurrency: SCALE_CONCURRENCY,
      shards: Number(values.shards),
    },
    { progress, timeoutMs: 900_000 },
  );
  process.stdout.write(`${renderScaleText(output)}\n`);
});
