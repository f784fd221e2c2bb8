/**
 * The chart of one `npm run bench` run (bench/results/latest.svg): actor via gRPC vs the
 * row lock, throughput and p99 per cell, cached reads vs a bare Koa route, and the other
 * scenarios (no baseline: recovery, failover) as notes. Also a command:
 * `npx tsx bench/benchChart.ts <results/…-scenarios.json>` redraws latest.svg from a run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { CachedReadResult } from './cachedRead.js';
import { svgChart } from './chart.js';
import type { FailoverResult } from './failover.js';
import type { FlashCell } from './flashSale.js';
import type { ManyEventsCell } from './manyEvents.js';
import type { RecoveryResult } from './recovery.js';

export interface BenchRun {
  readonly startedAt: string;
  readonly flash: readonly FlashCell[];
  readonly many: ManyEventsCell | null;
  readonly recovery: RecoveryResult | null;
  readonly cached: CachedReadResult | null;
  readonly failover: FailoverResult | null;
}

export function benchChart({ startedAt, flash, many, recovery, cached, failover }: BenchRun): string {
  const groups = [...flash.map((c) => ({ label: `flash ×${c.callers}`, cell: c })), ...(many ? [{ label: `${many.events} events ×${many.callers}`, cell: many }] : [])];
  return svgChart(
    `Ticket Service bench ${startedAt.slice(0, 10)}: actor via gRPC vs Postgres row lock`,
    [
      { title: 'Throughput', unit: 'reservations/s', groups: groups.map((g) => ({ label: g.label, ours: g.cell.actor.load.reservationsPerSecond, baseline: g.cell.rowLock.load.reservationsPerSecond })) },
      { title: 'p99 latency', unit: 'ms, lower is better', groups: groups.map((g) => ({ label: g.label, ours: g.cell.actor.load.latency.p99Ms, baseline: g.cell.rowLock.load.latency.p99Ms })) },
      ...(cached && cached.rows.length > 0
        ? [
            { title: 'Cached reads', unit: 'requests/s', groups: cached.rows.map((r) => ({ label: r.route, ours: r.service.requestsPerSecond, baseline: r.bareKoa.requestsPerSecond })) },
            { title: 'Cached read p99', unit: 'ms, lower is better', groups: cached.rows.map((r) => ({ label: r.route, ours: r.service.p99Ms, baseline: r.bareKoa.p99Ms })) },
          ]
        : []),
    ],
    [
      ...flash.map((c) => `flash ×${c.callers}: server CPU ${c.actor.cpuUsPerCall.toFixed(0)} µs/res vs echo ${c.echo.cpuUsPerCall.toFixed(0)} µs/call (${c.echo.load.reservationsPerSecond.toFixed(0)} echo/s)`),
      ...(cached?.rows ?? []).map((r) => `cached ${r.route}: ${r.service.requestsPerSecond.toFixed(0)} req/s vs bare Koa ${r.bareKoa.requestsPerSecond.toFixed(0)} (${(r.ratio * 100).toFixed(1)}%), p99 ${r.service.p99Ms.toFixed(2)} vs ${r.bareKoa.p99Ms.toFixed(2)} ms`),
      ...(failover ? [`failover (lease ${failover.leaseMs} ms): ${failover.failoverMs.map((m) => m.toFixed(0)).join(', ')} ms kill -9 → served`] : []),
      ...(recovery ? [`recovery: ${recovery.activationMs[0]?.toFixed(0)} ms to activate (${recovery.issuedTickets} tickets, ${recovery.journalRowsAfterSnapshot} rows after snapshot)`] : []),
    ],
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/benchChart.ts <bench/results/…-scenarios.json>');
    process.exit(2);
  }
  const run = JSON.parse(await readFile(file, 'utf8')) as BenchRun;
  const out = fileURLToPath(new URL('./results/latest.svg', import.meta.url));
  await writeFile(out, benchChart(run));
  console.log(`chart: ${out}`);
}
