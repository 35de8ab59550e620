import { parseArgs } from 'node:util';
import { roundTripRows, warmRows, warmTargets } from './results.ts';
import { runStandalone } from './standalone.ts';
import type { WarmInput, WarmOutput } from './warm.ts';
import { runWorker } from './worker.ts';

/**
 * `npm run bench:warm -- [--invocations 300] [--warmup 50] [--in-process]`: just the warm phase of
 * `npm run bench`, for iterating on the request paths' overhead. Same worker, same floors; prints each route's
 * p50 and p99 against its floor, its round trips, and the warm targets (to stderr). Figures for the record
 * come from `npm run bench`. `--in-process` runs the phase in this process, for
 * `node --cpu-prof bench/warm-only.ts --in-process > /dev/null` (the service's logs go to stdout).
 */
const { values: options } = parseArgs({
  options: {
    invocations: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '50' },
    'in-process': { type: 'boolean', default: false },
  },
});

const progress = (line: string) => process.stderr.write(`${line}\n`);
await runStandalone('bench-warm', { createTable: true }, async ({ env }) => {
  const input: WarmInput = { env, invocations: Number(options.invocations), warmup: Number(options.warmup) };
  const warm = options['in-process']
    ? await (await import('./warm.ts')).measureWarm(input, progress)
    : await runWorker<WarmInput, WarmOutput>(new URL('./warm.ts', import.meta.url), input, {
        progress,
        timeoutMs: 600_000,
      });
  const rows = warmRows(warm);
  const trips = roundTripRows(warm);
  const f = (n: number) => n.toFixed(2).padStart(6);
  for (const row of rows) {
    const trip = trips.find((t) => t.route === row.route);
    console.error(
      `${row.route.padEnd(16)} p50 ${f(row.latencyMs.p50)} / ${f(row.floor.latencyMs.p50)} = ${f(row.ratioP50)}×` +
        `   p99 ${f(row.latencyMs.p99)} / ${f(row.floor.latencyMs.p99)} = ${f(row.ratioP99)}×` +
        `   cpu ${f(row.cpuMs)} / ${f(row.floor.cpuMs)}   trips ${trip?.max}/${trip?.design.count}  ${row.floor.operation}`,
    );
  }
  for (const t of warmTargets(rows, trips))
    console.error(`${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.measured} (${t.goal})`);
});
