/**
 * Runs several sides of one cell the way run.ts does (warm-up each, then interleaved
 * measured slices A B C C B A …) and also records this process's CPU time
 * (process.cpuUsage, user + system) during each side's measured slices.
 *
 * The service, its gRPC server, the bench's gRPC clients and the row-lock pg clients all
 * run in this one process, so the CPU figure is the whole process (server + client side),
 * nothing subtracted; Postgres and Redis run in their own processes and are not included.
 */
import { newTally, resultOf, runSlice, type LoadResult, type Tally } from './workload.js';

export interface LoadSide {
  readonly name: string;
  call(quantity: number): Promise<void>;
}

export interface SideResult {
  readonly load: LoadResult;
  /** Process CPU (user + system) µs during measured slices, divided by measured calls. */
  readonly cpuUsPerCall: number;
  readonly cpuSeconds: number;
}

export interface InterleaveOptions {
  readonly callers: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly slices: number;
  readonly aborted: () => boolean;
}

export async function runInterleaved(sides: readonly LoadSide[], o: InterleaveOptions): Promise<Map<string, SideResult>> {
  const tallies = new Map<LoadSide, Tally>(sides.map((s) => [s, newTally()]));
  const cpuUs = new Map<LoadSide, number>(sides.map((s) => [s, 0]));
  const slice = async (s: LoadSide, warmupMs: number, measureMs: number) => {
    const before = process.cpuUsage();
    await runSlice(tallies.get(s) as Tally, { callers: o.callers, warmupMs, measureMs, call: (q) => s.call(q), aborted: o.aborted });
    const d = process.cpuUsage(before);
    if (measureMs > 0) cpuUs.set(s, (cpuUs.get(s) as number) + d.user + d.system);
  };
  for (const s of sides) await slice(s, o.warmupSeconds * 1000, 0);
  for (let i = 0; i < o.slices && !o.aborted(); i++) {
    for (const s of i % 2 === 0 ? sides : [...sides].reverse()) await slice(s, 0, (o.seconds * 1000) / o.slices);
  }
  const out = new Map<string, SideResult>();
  for (const s of sides) {
    const load = resultOf(o.callers, tallies.get(s) as Tally);
    const us = cpuUs.get(s) as number;
    out.set(s.name, { load, cpuUsPerCall: load.measuredCalls > 0 ? us / load.measuredCalls : Number.NaN, cpuSeconds: us / 1e6 });
  }
  return out;
}
