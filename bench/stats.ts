/** Order statistics for latency samples: nearest-rank percentiles, so every figure is a value that was measured. */
export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50), 3),
    p90: round(percentile(sorted, 90), 3),
    p99: round(percentile(sorted, 99), 3),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length), 3),
    min: round(sorted[0] ?? Number.NaN, 3),
    max: round(sorted.at(-1) ?? Number.NaN, 3),
  };
}

/** Rounds for the results file: enough digits to compare runs, no float noise. */
export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

export const ratio = (value: number, floor: number) => round(value / floor, 2);
