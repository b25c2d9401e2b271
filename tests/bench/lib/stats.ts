// Percentiles from raw samples (milliseconds): a sort is exact and cheap at
// the sample counts a few-second cell produces.

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  // nearest-rank: the smallest sample with at least p % of samples at or below it
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((a, b) => a + b, 0);
  return {
    p50: percentile(list, 50),
    p99: percentile(list, 99),
    max: list.length ? (list[list.length - 1] as number) : NaN,
    mean: list.length ? sum / list.length : NaN,
  };
}

export function median(samples: readonly number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 50);
}
