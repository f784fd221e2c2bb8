/** Latency summaries for the benchmarks: nearest-rank percentiles over nanosecond samples. */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Nearest-rank percentile (0 < p ≤ 100) of an ascending array; NaN when empty. */
export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
  if (sortedAsc.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length, Math.max(1, rank)) - 1] as number;
}

/** Summarise per-call latencies given in nanoseconds (as recorded with process.hrtime.bigint). */
export function summarize(latenciesNs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesNs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const ms = (ns: number) => ns / 1e6;
  return {
    count: sorted.length,
    p50Ms: ms(percentile(sorted, 50)),
    p99Ms: ms(percentile(sorted, 99)),
    maxMs: sorted.length > 0 ? ms(sorted[sorted.length - 1] as number) : Number.NaN,
    meanMs: sorted.length > 0 ? ms(sum / sorted.length) : Number.NaN,
  };
}
