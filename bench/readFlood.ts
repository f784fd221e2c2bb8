/**
 * Flash sale under a read flood: the 64-caller flash sale of one event (ReserveTickets over
 * gRPC), once alone and once while a second load process sends anonymous availability reads
 * of the same event (GetAvailableTickets and GetInventoryLevels in turn) as fast as its
 * callers can. Reads are answered off the actor's mailbox (from committed state or the live
 * projection), so the reservations should barely notice: the targets are p99 at most 2× and
 * res/s at least 80% of the plain run. Plain and flooded slices alternate.
 *
 * The readers are one process, so one peer address: to the per-caller read budget
 * (GRPC_RATE_LIMIT_READ_POINTS, 1,000 a second by default) they are one anonymous caller,
 * and it would refuse nearly the whole flood at next to no cost. The stack this runs on is
 * started with READ_FLOOD_ENV, a budget no flood reaches, so every read is served (the
 * limiter still charges each one, as it would the many callers a real flood comes from).
 * Refusals are counted apart (`refused`, among the errors) and fail the no-errors target.
 */
import type { LoadChild } from './loadDriver.js';
import { startLoadChild } from './loadDriver.js';
import { createCatalog, grpcReserveSide, type BenchStack } from './stack.js';
import type { Target } from './report.js';
import type { LoadResult } from './workload.js';

/** Service settings of the stack the flood runs on: a per-caller read budget the readers never exhaust. */
export const READ_FLOOD_ENV: Readonly<Record<string, string>> = { GRPC_RATE_LIMIT_READ_POINTS: '10000000' };

export interface ReadFloodResult {
  readonly callers: number;
  readonly readers: number;
  readonly plain: LoadResult;
  readonly flooded: LoadResult;
  readonly reads: LoadResult;
}

export interface ReadFloodOptions {
  readonly callers: number;
  readonly readers: number;
  readonly seconds: number;
  readonly slices: number;
  readonly warmupSeconds: number;
  readonly capacity: number;
  readonly holdSeconds: number;
  readonly aborted: () => boolean;
}

export async function readFloodBench(stack: BenchStack, child: LoadChild, o: ReadFloodOptions): Promise<ReadFloodResult> {
  const cat = await createCatalog(stack.admin, `bench read flood c${o.callers}`, o.capacity);
  const port = stack.service.grpcPort;
  const readers = await startLoadChild();
  try {
    await child.setup([
      grpcReserveSide(stack, 'floodPlain', [cat], o.holdSeconds),
      grpcReserveSide(stack, 'floodFlooded', [cat], o.holdSeconds),
    ]);
    await readers.setup([{ kind: 'grpcRead', name: 'reads', port, targets: [cat] }]);
    const sliceMs = (o.seconds * 1000) / o.slices;
    const warmupMs = o.warmupSeconds * 1000;
    for (let i = 0; i < o.slices && !o.aborted(); i++) {
      await child.slice('floodPlain', o.callers, warmupMs, sliceMs);
      // Both processes start together; the readers' slice covers the reservations' one.
      await Promise.all([child.slice('floodFlooded', o.callers, warmupMs, sliceMs), readers.slice('reads', o.readers, warmupMs, sliceMs)]);
    }
    const [mine, theirs] = await Promise.all([child.results(), readers.results()]);
    return {
      callers: o.callers,
      readers: o.readers,
      plain: mine.floodPlain as LoadResult,
      flooded: mine.floodFlooded as LoadResult,
      reads: theirs.reads as LoadResult,
    };
  } finally {
    await readers.close();
    await stack.service.inventory.registry.passivate(cat.eventId);
  }
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');

export function readFloodTable(r: ReadFloodResult): string {
  const row = (name: string, l: LoadResult, unit: string) =>
    `  ${name.padEnd(28)} ${f(l.reservationsPerSecond).padStart(8)} ${unit}  p50 ${f(l.latency.p50Ms, 2).padStart(7)} ms  p99 ${f(l.latency.p99Ms, 2).padStart(7)} ms  errors ${l.errors} (rate limited ${l.refused})`;
  return [
    `\nFlash sale under a read flood: ${r.callers} reserving callers on one event; a second load process with ${r.readers} anonymous readers of the same event (GetAvailableTickets / GetInventoryLevels)`,
    row('flash sale alone', r.plain, 'res/s'),
    row('flash sale under the flood', r.flooded, 'res/s'),
    row('the flood (reads)', r.reads, 'reads/s'),
  ].join('\n');
}

export function readFloodTargets(r: ReadFloodResult): Target[] {
  const p99 = r.flooded.latency.p99Ms / r.plain.latency.p99Ms;
  const rate = r.flooded.reservationsPerSecond / r.plain.reservationsPerSecond;
  return [
    { name: 'flash sale under a read flood: p99 ≤ 2× the plain run', met: p99 <= 2, detail: `${f(r.flooded.latency.p99Ms, 2)} vs ${f(r.plain.latency.p99Ms, 2)} ms (${f(p99, 2)}×)` },
    { name: 'flash sale under a read flood: res/s ≥ 80% of the plain run', met: rate >= 0.8, detail: `${f(r.flooded.reservationsPerSecond)} vs ${f(r.plain.reservationsPerSecond)} res/s (${f(rate * 100, 1)}%), ${f(r.reads.reservationsPerSecond)} reads/s` },
    {
      name: 'flash sale under a read flood: no errors, no read refused by a rate limit',
      met: r.flooded.errors + r.plain.errors + r.reads.errors === 0,
      detail: `errors ${r.plain.errors} / ${r.flooded.errors} / ${r.reads.errors} (plain / flooded / reads), of them rate limited ${r.plain.refused} / ${r.flooded.refused} / ${r.reads.refused}${r.reads.firstError ? ` (${r.reads.firstError})` : ''}`,
    },
  ];
}
