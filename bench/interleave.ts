/**
 * Runs several sides of one cell the way run.ts does (a warm-up slice each, then
 * interleaved measured slices A B C C B A …) with the callers in the load child
 * (loadChild.ts), and records this process's CPU (process.cpuUsage, user + system) during
 * each side's measured slices: the server's CPU — the service and its gRPC server, or the
 * echo server — with the callers' client work in the other process (reported apart).
 * Postgres and Redis run in their own processes: with `databaseCpu` their CPU over the
 * same slices is reported apart as well.
 *
 * BENCH_PROFILE_DIR=<dir>: also write a V8 CPU profile of this process over each side's
 * measured slices (`<dir>/<side>.cpuprofile`, open in Chrome DevTools or speedscope).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpuBetween, type DatabaseCpu } from './databaseCpu.js';
import type { LoadChild } from './loadDriver.js';
import type { LoadResult } from './workload.js';

export interface SideResult {
  readonly load: LoadResult;
  /** Host (server) CPU µs during measured slices, divided by measured calls. */
  readonly cpuUsPerCall: number;
  readonly cpuSeconds: number;
  /** Share of the host CPU above spent in the kernel (system time: socket syscalls, wake-ups). */
  readonly systemShare: number;
  /** The load child's CPU µs (client side) during measured slices, divided by measured calls. */
  readonly clientCpuUsPerCall: number;
  /** This process's event-loop delay during measured slices (stalls: GC, long synchronous work), ms: worst slice's p99, max. */
  readonly loopDelay: { readonly p99Ms: number; readonly maxMs: number };
  /** The databases' CPU µs (Postgres and Redis, `databaseCpu`) during measured slices, divided by measured calls; NaN when not read. */
  readonly databaseCpuUsPerCall: number;
}

export interface InterleaveOptions {
  readonly callers: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly slices: number;
  readonly aborted: () => boolean;
  /** Called before each slice of `side` (warm-up included): e.g. a side that runs the service with its logs off. */
  readonly beforeSlice?: (side: string) => void;
  /** The databases' CPU so far (databaseCpu.ts), read around each measured slice. */
  readonly databaseCpu?: DatabaseCpu;
}

async function profiler(dir: string | undefined) {
  if (!dir) return null;
  await mkdir(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  // BENCH_HEAP_PROFILE=1: also sample allocations that survive young-generation GCs and
  // die only in a major GC (promoted garbage, what makes mark-compact pauses long);
  // BENCH_HEAP_PROFILE=all: every allocation (what the young generation churns through).
  const heapMode = process.env.BENCH_HEAP_PROFILE;
  const heap = heapMode === '1' || heapMode === 'all';
  if (heap) await session.post('HeapProfiler.enable');
  return {
    async start() {
      await session.post('Profiler.start');
      if (heap) {
        await session.post('HeapProfiler.startSampling', {
          samplingInterval: 32_768,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: heapMode === 'all',
        });
      }
    },
    async stop(name: string) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
      if (heap) {
        const sampled = await session.post('HeapProfiler.stopSampling');
        await writeFile(`${dir}/${name}.heapprofile`, JSON.stringify(sampled.profile));
      }
    },
    close: () => session.disconnect(),
  };
}

/** What one side's measured slices add up to on this (host) side. */
interface Measured {
  cpuUs: number;
  systemUs: number;
  clientUs: number;
  databaseUs: number;
  /** Worst slice's event-loop delay p99, and the overall max, ms. */
  loopP99Ms: number;
  loopMaxMs: number;
}

export async function runInterleaved(child: LoadChild, sides: readonly string[], o: InterleaveOptions): Promise<Map<string, SideResult>> {
  const measured = new Map<string, Measured>(sides.map((s) => [s, { cpuUs: 0, systemUs: 0, clientUs: 0, databaseUs: 0, loopP99Ms: 0, loopMaxMs: 0 }]));
  const prof = await profiler(process.env.BENCH_PROFILE_DIR);
  const profiled = new Set<string>();
  const slice = async (s: string, warmupMs: number, measureMs: number) => {
    const m = measureMs > 0 ? (measured.get(s) as Measured) : undefined;
    o.beforeSlice?.(s);
    const profileThis = prof !== null && m !== undefined && !profiled.has(s);
    // Read outside the host's windows (CPU, loop delay, profile): scanning /proc is the
    // bench's work, not the server's.
    const databaseBefore = m ? await o.databaseCpu?.() : undefined;
    if (profileThis) await prof.start();
    // A fresh monitor per slice: a re-enabled one counts the pause between slices as a
    // delay, and histograms of this kind cannot be merged.
    const delay = m ? monitorEventLoopDelay({ resolution: 5 }) : undefined;
    delay?.enable();
    const before = process.cpuUsage();
    const r = await child.slice(s, o.callers, warmupMs, measureMs);
    const d = process.cpuUsage(before);
    delay?.disable();
    if (profileThis) {
      profiled.add(s);
      await prof.stop(s);
    }
    const databaseAfter = databaseBefore !== undefined ? await o.databaseCpu?.() : undefined;
    if (m && delay) {
      m.cpuUs += d.user + d.system;
      m.systemUs += d.system;
      m.clientUs += r.clientCpuUs;
      m.databaseUs += databaseBefore !== undefined && databaseAfter !== undefined ? cpuBetween(databaseBefore, databaseAfter) : Number.NaN;
      m.loopP99Ms = Math.max(m.loopP99Ms, delay.percentile(99) / 1e6);
      m.loopMaxMs = Math.max(m.loopMaxMs, delay.max / 1e6);
    }
  };
  for (const s of sides) await slice(s, o.warmupSeconds * 1000, 0);
  for (let i = 0; i < o.slices && !o.aborted(); i++) {
    for (const s of i % 2 === 0 ? sides : [...sides].reverse()) await slice(s, 0, (o.seconds * 1000) / o.slices);
  }
  prof?.close();
  const results = await child.results();
  const out = new Map<string, SideResult>();
  for (const s of sides) {
    const load = results[s];
    if (!load) throw new Error(`no results for side ${s}`);
    const m = measured.get(s) as Measured;
    const per = (us: number) => (load.measuredCalls > 0 ? us / load.measuredCalls : Number.NaN);
    out.set(s, {
      load,
      cpuUsPerCall: per(m.cpuUs),
      cpuSeconds: m.cpuUs / 1e6,
      systemShare: m.cpuUs > 0 ? m.systemUs / m.cpuUs : Number.NaN,
      clientCpuUsPerCall: per(m.clientUs),
      loopDelay: { p99Ms: m.loopP99Ms, maxMs: m.loopMaxMs },
      databaseCpuUsPerCall: per(m.databaseUs),
    });
  }
  return out;
}
