/**
 * Closed-loop load: `callers` concurrent loops, each reserving 1–4 seats (uniformly at
 * random) and starting its next call as soon as the previous one answers. A cell is run
 * as several slices (interleaved with the other side's, see run.ts) that add into one
 * Tally; calls started during a warm-up count toward the correctness totals only.
 */
import { summarize, type LatencySummary } from './stats.js';

export interface Tally {
  readonly latenciesNs: number[];
  measuredQuantity: number;
  /** Sum over slices of: end of warm-up → last measured call answered. */
  measuredNs: number;
  /** Over warm-ups and measurements: what the correctness check compares against. */
  ackedCalls: number;
  ackedQuantity: number;
  errors: number;
  firstError: string | null;
  /** Of the errors: calls a rate limit refused (gRPC RESOURCE_EXHAUSTED). */
  refused: number;
}

export const newTally = (): Tally => ({
  latenciesNs: [],
  measuredQuantity: 0,
  measuredNs: 0,
  ackedCalls: 0,
  ackedQuantity: 0,
  errors: 0,
  firstError: null,
  refused: 0,
});

/** gRPC RESOURCE_EXHAUSTED: a rate limit of the service refused the call (grpc-js and the lean client both carry the code). */
const RESOURCE_EXHAUSTED = 8;
const isRefusal = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === RESOURCE_EXHAUSTED;

export interface SliceOptions {
  readonly callers: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** One reservation of `quantity` seats; resolves when acknowledged. */
  readonly call: (quantity: number) => Promise<void>;
  /** Checked before each call: stop early (Ctrl-C). */
  readonly aborted: () => boolean;
}

const nowNs = () => process.hrtime.bigint();

/** Run one slice; returns when every caller's last call has answered. */
export async function runSlice(tally: Tally, opts: SliceOptions): Promise<void> {
  const measureFrom = nowNs() + BigInt(Math.round(opts.warmupMs * 1e6));
  const end = measureFrom + BigInt(Math.round(opts.measureMs * 1e6));
  let lastDone = measureFrom;

  async function caller(): Promise<void> {
    for (;;) {
      const t0 = nowNs();
      if (t0 >= end || opts.aborted()) return;
      const quantity = 1 + Math.floor(Math.random() * 4);
      try {
        await opts.call(quantity);
      } catch (err) {
        tally.errors += 1;
        if (isRefusal(err)) tally.refused += 1;
        tally.firstError ??= `${(err as Error).name}: ${(err as Error).message}`;
        continue;
      }
      const t1 = nowNs();
      tally.ackedCalls += 1;
      tally.ackedQuantity += quantity;
      if (t0 >= measureFrom) {
        tally.latenciesNs.push(Number(t1 - t0));
        tally.measuredQuantity += quantity;
        if (t1 > lastDone) lastDone = t1;
      }
    }
  }

  await Promise.all(Array.from({ length: opts.callers }, () => caller()));
  tally.measuredNs += Number(lastDone - measureFrom);
}

export interface LoadResult {
  readonly callers: number;
  /** Acknowledged reservations started in measured time. */
  readonly measuredCalls: number;
  readonly measuredSeconds: number;
  readonly reservationsPerSecond: number;
  readonly ticketsPerSecond: number;
  readonly latency: LatencySummary;
  readonly ackedCalls: number;
  readonly ackedQuantity: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** Of the errors: calls a rate limit refused (RESOURCE_EXHAUSTED). */
  readonly refused: number;
}

export function resultOf(callers: number, t: Tally): LoadResult {
  const seconds = Math.max(t.measuredNs / 1e9, 1e-9);
  return {
    callers,
    measuredCalls: t.latenciesNs.length,
    measuredSeconds: seconds,
    reservationsPerSecond: t.latenciesNs.length / seconds,
    ticketsPerSecond: t.measuredQuantity / seconds,
    latency: summarize(t.latenciesNs),
    ackedCalls: t.ackedCalls,
    ackedQuantity: t.ackedQuantity,
    errors: t.errors,
    firstError: t.firstError,
    refused: t.refused,
  };
}
