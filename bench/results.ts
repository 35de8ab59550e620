import type { BenchedFunction, BuildOutput } from './build-bundles.ts';
import { type BundleSize, beyondFloor } from './bundle-sizes.ts';
import type { ColdSample } from './cold-start.ts';
import { CHANNEL_NAMES, type Cost } from './cost.ts';
import type { Machine } from './machine.ts';
import type { PipelineOutput } from './pipeline.ts';
import { DESIGN_ROUND_TRIPS, type DesignRoundTrips, SMS_SEND, type WarmRoute } from './routes.ts';
import type { ScaleOutput } from './scale.ts';
import type { Source } from './source.ts';
import { percentile, ratio, round } from './stats.ts';
import type { ThroughputOutput } from './throughput.ts';
import type { RouteResult, WarmOutput } from './warm.ts';

/** Everything one run measured, as written to bench/results.json, with every figure's ratio to its floor. */
export interface RunSettings {
  coldSamples: number;
  coldSamplesWithoutSourceMaps: number;
  warmInvocations: number;
  warmup: number;
  throughputRequests: number;
  throughputConcurrency: number;
  nodeOptions: string;
  environment: Record<string, string>;
}

export interface BundleRow extends BundleSize {
  ratio: number;
  gzipRatio: number;
  beyondFloor: Array<{ name: string; bytes: number }>;
}

export interface ColdRow {
  name: string;
  samples: number;
  totalMs: { p50: number; p90: number };
  bootMs: number;
  importMs: { p50: number; p90: number };
  invokeMs: { p50: number; p90: number };
  peakRssMiB: { p50: number; max: number };
  /** Medians over the floor's. */
  ratio: number;
  importRatio: number;
  rssRatio: number;
}

export interface WarmRow extends RouteResult {
  ratioP50: number;
  ratioP99: number;
  /** p50 minus the floor's p50, ms. */
  overFloorP50Ms: number;
}

export interface RoundTripRow {
  route: WarmRoute;
  /** Mean per invocation, and the most any one invocation made. */
  measured: number;
  max: number;
  operations: string[];
  design: DesignRoundTrips;
  readUnits: number;
  writeUnits: number;
  estimatedWriteUnits: number;
}

export interface TargetCheck {
  target: string;
  goal: string;
  measured: string;
  met: boolean;
  /** How far off a missed target is. */
  gap?: string;
}

export interface Results {
  generatedAt: string;
  durationSeconds: number;
  machine: Machine;
  source: Source;
  settings: RunSettings;
  bundles: BundleRow[];
  coldStart: { nodeOptions: string; rows: ColdRow[]; withoutSourceMaps: ColdRow[] };
  warm: WarmRow[];
  roundTrips: RoundTripRow[];
  throughput: ThroughputOutput & { ratio: number };
  scale: ScaleOutput;
  memoryMb: BuildOutput['memoryMb'];
  /** Per voice verification. */
  /** The events function per stream record and the deliverer per webhook (bench/pipeline.ts). */
  pipeline: PipelineOutput;
  cost: Cost;
  smsCost: Cost;
  /** Absent from runs made before WhatsApp existed. */
  whatsappCost?: Cost;
  targets: TargetCheck[];
}

/** The targets: cold start, peak RSS and bundle size as ratios to the floor, per function. */
export const RATIO_TARGETS: Record<BenchedFunction, number> = {
  send: 1.6,
  verify: 1.3,
  answer: 1.3,
  hangup: 1.3,
  events: 1.3,
  deliver: 1.3,
};
/** Warm p50 over the route's floor (bench/routes.ts), in the same run; p99's ratio is reported beside it. */
export const WARM_P50_TARGETS: Partial<Record<WarmRoute, number>> = {
  'check wrong': 1.2,
  'check right': 1.1,
  answer: 1.2,
  status: 1.1,
  hangup: 1.2,
};
export const COST_TARGET = 0.000_02;

export function bundleRows(sizes: readonly BundleSize[]): BundleRow[] {
  const floor = sizes.find((s) => s.name === 'floor');
  if (!floor) throw new Error('no floor bundle');
  return sizes.map((size) => ({
    ...size,
    ratio: ratio(size.bytes, floor.bytes),
    gzipRatio: ratio(size.gzipBytes, floor.gzipBytes),
    beyondFloor: size.name === 'floor' ? [] : beyondFloor(size, floor),
  }));
}

export function coldRows(samples: Record<string, ColdSample[]>): ColdRow[] {
  const p = (name: string, pick: (s: ColdSample) => number, pct: number) =>
    round(percentile((samples[name] ?? []).map(pick), pct), 1);
  const floor = {
    total: p('floor', (s) => s.totalMs, 50),
    import: p('floor', (s) => s.importMs, 50),
    rss: p('floor', (s) => s.peakRssMiB, 50),
  };
  return Object.keys(samples).map((name) => ({
    name,
    samples: samples[name]?.length ?? 0,
    totalMs: { p50: p(name, (s) => s.totalMs, 50), p90: p(name, (s) => s.totalMs, 90) },
    bootMs: p(name, (s) => s.bootMs, 50),
    importMs: { p50: p(name, (s) => s.importMs, 50), p90: p(name, (s) => s.importMs, 90) },
    invokeMs: { p50: p(name, (s) => s.invokeMs, 50), p90: p(name, (s) => s.invokeMs, 90) },
    peakRssMiB: { p50: p(name, (s) => s.peakRssMiB, 50), max: p(name, (s) => s.peakRssMiB, 100) },
    ratio: ratio(
      p(name, (s) => s.totalMs, 50),
      floor.total,
    ),
    importRatio:
      name === 'node'
        ? 0
        : ratio(
            p(name, (s) => s.importMs, 50),
            floor.import,
          ),
    rssRatio: ratio(
      p(name, (s) => s.peakRssMiB, 50),
      floor.rss,
    ),
  }));
}

export function warmRows(warm: WarmOutput): WarmRow[] {
  return warm.routes.map((route) => ({
    ...route,
    ratioP50: ratio(route.latencyMs.p50, route.floor.latencyMs.p50),
    ratioP99: ratio(route.latencyMs.p99, route.floor.latencyMs.p99),
    overFloorP50Ms: round(route.latencyMs.p50 - route.floor.latencyMs.p50, 3),
  }));
}

export const roundTripRows = (warm: WarmOutput): RoundTripRow[] =>
  warm.routes.map((route) => ({
    route: route.route,
    measured: route.roundTrips.mean,
    max: route.roundTrips.max,
    operations: route.roundTrips.operations,
    design: DESIGN_ROUND_TRIPS[route.route],
    ...route.capacity,
  }));

const over = (measured: number, goal: number, unit = '×') =>
  `${unit === '×' ? `+${(measured - goal).toFixed(2)}×` : `+${(measured - goal).toFixed(2)} ${unit}`} (${Math.round((measured / goal - 1) * 100)}% over)`;

export function evaluateTargets(results: Omit<Results, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ratioCheck = (target: string, fn: BenchedFunction, measured: number) => {
    const goal = RATIO_TARGETS[fn];
    checks.push({
      target,
      goal: `≤ ${goal.toFixed(1)}× floor`,
      measured: `${measured.toFixed(2)}×`,
      met: measured <= goal,
      ...(measured > goal && { gap: over(measured, goal) }),
    });
  };
  for (const fn of Object.keys(RATIO_TARGETS) as BenchedFunction[]) {
    const cold = results.coldStart.rows.find((r) => r.name === fn);
    const bundle = results.bundles.find((b) => b.name === fn);
    if (cold) ratioCheck(`${fn}: cold start (median)`, fn, cold.ratio);
    if (cold) ratioCheck(`${fn}: peak RSS (median)`, fn, cold.rssRatio);
    if (bundle) ratioCheck(`${fn}: bundle size (minified)`, fn, bundle.ratio);
    // The send function sending an SMS is held to the send function's targets.
    const sms = fn === 'send' && results.coldStart.rows.find((r) => r.name === SMS_SEND);
    if (sms) ratioCheck(`${SMS_SEND}: cold start (median)`, fn, sms.ratio);
    if (sms) ratioCheck(`${SMS_SEND}: peak RSS (median)`, fn, sms.rssRatio);
  }
  checks.push(...warmTargets(results.warm, results.roundTrips));
  for (const cost of [
    results.cost,
    results.smsCost,
    ...(results.whatsappCost ? [results.whatsappCost] : []),
  ]) {
    const total = cost.awsTotal;
    checks.push({
      target: `AWS cost per ${CHANNEL_NAMES[cost.channel]} verification (1M/month)`,
      goal: `≤ $${COST_TARGET.toFixed(5)}`,
      measured: `$${total.toFixed(7)}`,
      met: total <= COST_TARGET,
      ...(total > COST_TARGET && {
        gap: `+$${(total - COST_TARGET).toFixed(7)} (${Math.round((total / COST_TARGET - 1) * 100)}% over)`,
      }),
    });
  }
  return checks;
}

/** The warm p50 targets, and every route's round trips held to its design count. */
export function warmTargets(warm: readonly WarmRow[], roundTrips: readonly RoundTripRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of warm) {
    const goal = WARM_P50_TARGETS[row.route];
    if (goal === undefined) continue;
    checks.push({
      target: `warm ${row.route} p50`,
      goal: `≤ ${goal.toFixed(1)}× raw ${row.floor.operation} p50`,
      measured: `${row.ratioP50.toFixed(2)}× (${row.latencyMs.p50.toFixed(2)} vs ${row.floor.latencyMs.p50.toFixed(2)} ms; p99 ${row.ratioP99.toFixed(2)}×)`,
      met: row.ratioP50 <= goal,
      ...(row.ratioP50 > goal && { gap: over(row.ratioP50, goal) }),
    });
  }
  for (const row of roundTrips) {
    checks.push({
      target: `${row.route}: DynamoDB round trips`,
      goal: `≤ ${row.design.count} (design)`,
      measured: `${row.max} at most, ${row.measured.toFixed(2)} mean`,
      met: row.max <= row.design.count,
      ...(row.max > row.design.count && { gap: `+${row.max - row.design.count}` }),
    });
  }
  return checks;
}
