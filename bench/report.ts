/** Text tables and the performance targets (reported, not asserted) for all.ts. */
import type { CachedReadResult, CannonSide } from './cachedRead.js';
import type { FailoverResult } from './failover.js';
import type { FlashCell, ScenarioOptions } from './flashSale.js';
import type { SideResult } from './interleave.js';
import type { ManyEventsCell } from './manyEvents.js';
import type { PricedFlashCell } from './pricedFlashSale.js';
import type { RecoveryResult } from './recovery.js';
import type { StreamCell } from './streamBench.js';

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function grid(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((v, i) => (i === 0 ? v.padEnd(w[i] as number) : v.padStart(w[i] as number))).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** `srv + cli + databases = total` µs per call: what one call costs the whole machine. */
const machineCpu = (s: SideResult) =>
  `${f(s.cpuUsPerCall)} + ${f(s.clientCpuUsPerCall)} + ${f(s.databaseCpuUsPerCall)} = ${f(s.cpuUsPerCall + s.clientCpuUsPerCall + s.databaseCpuUsPerCall)}`;
const side = (s: SideResult) => [f(s.load.reservationsPerSecond), f(s.load.latency.p50Ms, 2), f(s.load.latency.p99Ms, 2), `${f(s.cpuUsPerCall)} / ${f(s.clientCpuUsPerCall)}`];

export function table(flash: readonly FlashCell[], many: ManyEventsCell | null, rec: RecoveryResult | null, o: ScenarioOptions): string {
  const out: string[] = [];
  const head = ['callers', 'gRPC actor res/s', 'p50 ms', 'p99 ms', 'CPU µs/res srv / cli', 'row-lock res/s', 'p50 ms', 'p99 ms', 'CPU µs/res srv / cli', 'echo calls/s', 'p50 ms', 'p99 ms', 'CPU µs/call srv / cli', 'speed-up', 'p99 ratio', 'CPU vs echo', 'oversell'];
  if (flash.length) {
    out.push(`\nFlash sale through gRPC (one event, 1–4 seats per ReserveTickets), ${o.seconds} s per side in ${o.slices} interleaved slices after ${o.warmupSeconds} s warm-up`);
    out.push(grid(head, flash.map((c) => [String(c.callers), ...side(c.actor), ...side(c.rowLock), ...side(c.echo), `${f(c.speedUp, 2)}×`, f(c.p99Ratio, 3), `${f(c.cpuVsEcho, 2)}×`, String(c.actor.check.violations.length + c.quiet.check.violations.length + c.rowLock.check.violations.length)])));
    out.push(
      `the actor side with the service's logs off, interleaved in the same slices (res/s, ratio to the side above, CPU µs/res srv / cli): ${flash
        .map((c) => `${c.callers} callers ${f(c.quiet.load.reservationsPerSecond)} (${f(c.quiet.load.reservationsPerSecond / c.actor.load.reservationsPerSecond, 2)}×, ${f(c.quiet.load.reservationsPerSecond / c.echo.load.reservationsPerSecond, 2)} of the echo), ${f(c.quiet.cpuUsPerCall)} / ${f(c.quiet.clientCpuUsPerCall)}`)
        .join('; ')}`,
    );
    out.push(`host event-loop delay during the actor's slices (p99 / max ms): ${flash.map((c) => `${c.callers} callers ${f(c.actor.loopDelay.p99Ms, 1)} / ${f(c.actor.loopDelay.maxMs, 1)}`).join(', ')}`);
    out.push(`kernel share of the host's CPU (actor / echo): ${flash.map((c) => `${c.callers} callers ${f(c.actor.systemShare * 100)}% / ${f(c.echo.systemShare * 100)}%`).join(', ')}`);
    out.push(`the whole machine's CPU µs per reservation or call, service + load generator + Postgres and Redis = total (actor / row lock / echo): ${flash
      .map((c) => `${c.callers} callers ${[c.actor, c.rowLock, c.echo].map(machineCpu).join(' / ')}`)
      .join('; ')}`);
    out.push(`server time per ReserveTickets call / per turn commit (means, ms): ${flash.map((c) => `${c.callers} callers ${f(c.server.callMs, 2)} / ${f(c.server.commitMs, 2)}`).join(', ')}`);
    out.push('CPU µs per call: srv = the bench host process (the service and its gRPC server, or the echo server; the row-lock seller runs in the load child, so its srv is ~0), cli = the load child process (callers: grpc-js client, row-lock pg client); Postgres and Redis: their processes\' CPU from /proc (10 ms ticks, summed over the slices).');
  }
  if (many) {
    out.push(`\nMany events: ${many.events} events, callers spread uniformly (actors pre-activated in ${f(many.activationMs)} ms)`);
    out.push(grid(head.slice(0, 9).concat(['speed-up', 'p99 ratio', 'oversell']), [[String(many.callers), ...side(many.actor), ...side(many.rowLock), `${f(many.speedUp, 2)}×`, f(many.p99Ratio, 3), String(many.actor.check.violations.length + many.rowLock.check.violations.length)]]));
  }
  if (rec) {
    out.push(`\nRecovery: ${rec.issuedTickets} issued tickets, snapshot at seq ${rec.snapshotSeq} (${rec.snapshotBytes} bytes), ${rec.journalRowsAfterSnapshot} journal rows after it (built in ${f(rec.buildSeconds, 1)} s)`);
    out.push(`activation (discard → levels()): ${rec.activationMs.map((m) => `${f(m, 1)} ms`).join(', ')} (first is the headline)`);
  }
  return out.join('\n');
}

export interface Target {
  readonly name: string;
  readonly met: boolean;
  readonly detail: string;
}

export function targets(flash: readonly FlashCell[], many: ManyEventsCell | null, rec: RecoveryResult | null): Target[] {
  const t: Target[] = [];
  const c1 = flash.find((c) => c.callers === 1);
  const c64 = flash.find((c) => c.callers === 64);
  if (c1) {
    t.push({ name: 'flash 1 caller ≥ 1.0× row-lock res/s', met: c1.speedUp >= 1, detail: `${f(c1.actor.load.reservationsPerSecond)} vs ${f(c1.rowLock.load.reservationsPerSecond)} res/s (${f(c1.speedUp, 2)}×)` });
    t.push({ name: 'server CPU per reservation ≤ 3× echo call (1 caller)', met: c1.cpuVsEcho <= 3, detail: `${f(c1.actor.cpuUsPerCall)} µs vs ${f(c1.echo.cpuUsPerCall)} µs (${f(c1.cpuVsEcho, 2)}×)` });
  }
  const echoRatio = (c: FlashCell) => c.actor.load.reservationsPerSecond / c.echo.load.reservationsPerSecond;
  if (c64) {
    t.push({ name: `flash ${c64.callers} callers ≥ 0.65 of the echo's calls/s`, met: echoRatio(c64) >= 0.65, detail: `${f(c64.actor.load.reservationsPerSecond)} vs ${f(c64.echo.load.reservationsPerSecond)} (${f(echoRatio(c64), 2)})` });
    t.push({ name: `flash ${c64.callers} callers p99 ≤ 0.15 of row-lock`, met: c64.p99Ratio <= 0.15, detail: `${f(c64.actor.load.latency.p99Ms, 2)} ms vs ${f(c64.rowLock.load.latency.p99Ms, 2)} ms (ratio ${f(c64.p99Ratio, 3)})` });
    t.push({ name: `server CPU per reservation ≤ 1.6× echo call (${c64.callers} callers)`, met: c64.cpuVsEcho <= 1.6, detail: `${f(c64.actor.cpuUsPerCall)} µs vs ${f(c64.echo.cpuUsPerCall)} µs (${f(c64.cpuVsEcho, 2)}×)` });
  }
  // Many events has no echo of its own: the flash sale's echo at the same caller count.
  const echoOfMany = many ? flash.find((c) => c.callers === many.callers) : undefined;
  if (many) {
    const name = `many events ≥ 0.6 of the echo's calls/s (${many.callers} callers)`;
    if (echoOfMany) {
      const ratio = many.actor.load.reservationsPerSecond / echoOfMany.echo.load.reservationsPerSecond;
      t.push({ name, met: ratio >= 0.6, detail: `${f(many.actor.load.reservationsPerSecond)} vs ${f(echoOfMany.echo.load.reservationsPerSecond)} (${f(ratio, 2)}; ${f(many.speedUp, 2)}× the row lock)` });
    } else {
      t.push({ name, met: false, detail: `not measured: no flash-sale echo at ${many.callers} callers in this run (${f(many.speedUp, 2)}× the row lock)` });
    }
  }
  if (rec) t.push({ name: 'recovery < 300 ms', met: (rec.activationMs[0] ?? Infinity) < 300, detail: `${f(rec.activationMs[0] ?? Number.NaN, 1)} ms` });
  return t;
}

const cannonCells = (s: CannonSide) => [f(s.requestsPerSecond), f(s.p50Ms, 2), f(s.p99Ms, 2), f(s.serverCpuUsPerRequest ?? Number.NaN, 1), String(s.errors + s.non2xx)];

/** Tables of the cached-read and failover scenarios (either may be absent). */
export function extraTables(cached: CachedReadResult | null, failover: FailoverResult | null): string {
  const out: string[] = [];
  if (cached) {
    out.push(`\nCached REST reads vs a bare Koa route serving the same bytes: autocannon, ${cached.connections} connections, ${cached.seconds} s each (servers on one event loop, autocannon on a worker thread; 1 s slices alternating after a 1 s warm-up)`);
    out.push(
      grid(
        ['route', 'bytes', 'service req/s', 'p50 ms', 'p99 ms', 'srv CPU µs/req', 'errors', 'bare Koa req/s', 'p50 ms', 'p99 ms', 'srv CPU µs/req', 'errors', 'ratio'],
        cached.rows.map((r) => [r.route, String(r.bytes), ...cannonCells(r.service), ...cannonCells(r.bareKoa), `${f(r.ratio * 100, 1)}%`]),
      ),
    );
    out.push(
      `the service with its logs off, in the same alternation (req/s, ratio to bare Koa, srv CPU µs/req): ${cached.rows
        .map((r) => `${r.route} ${f(r.serviceLogsOff.requestsPerSecond)} (${f((r.serviceLogsOff.requestsPerSecond / r.bareKoa.requestsPerSecond) * 100, 1)}%), ${r.serviceLogsOff.serverCpuUsPerRequest === undefined ? '-' : f(r.serviceLogsOff.serverCpuUsPerRequest)}`)
        .join('; ')}`,
    );
  }
  if (failover) {
    out.push(`\nFailover: ${failover.pods} pod processes, SHARD_COUNT ${failover.shardCount}, SHARD_LEASE_MS ${failover.leaseMs}; kill -9 the owner, poll GetInventoryLevels through the survivor every ${failover.pollMs} ms`);
    out.push(grid(['repetition', 'kill → served ms', 'failed polls'], failover.failoverMs.map((m, i) => [String(i + 1), f(m), String(failover.failedPolls[i] ?? '-')])));
  }
  return out.join('\n');
}

export function extraTargets(cached: CachedReadResult | null, failover: FailoverResult | null): Target[] {
  const t: Target[] = [];
  for (const r of cached?.rows ?? []) {
    t.push({ name: `cached ${r.route} ≥ 90% of bare Koa req/s`, met: r.ratio >= 0.9, detail: `${f(r.service.requestsPerSecond)} vs ${f(r.bareKoa.requestsPerSecond)} req/s (${f(r.ratio * 100, 1)}%)` });
  }
  if (failover && failover.failoverMs.length) {
    const worst = Math.max(...failover.failoverMs);
    t.push({ name: `failover ≤ lease TTL + 1 s (${failover.leaseMs + 1000} ms)`, met: worst <= failover.leaseMs + 1000, detail: `worst ${f(worst)} ms of ${failover.failoverMs.map((m) => f(m)).join(', ')} ms` });
  }
  return t;
}

/** The flash sale with three pricing rules beside the plain one (absent when not run). */
export function pricedTable(c: PricedFlashCell | null): string {
  if (!c) return '';
  return [
    `\nFlash sale with three active pricing rules (time, demand, velocity; holds priced at ${c.pricedUnitMinor ?? '-'} of base 5000) beside the plain flash sale, interleaved`,
    grid(
      ['callers', 'plain res/s', 'p50 ms', 'p99 ms', 'CPU µs/res srv / cli', 'priced res/s', 'p50 ms', 'p99 ms', 'CPU µs/res srv / cli', 'priced / plain', 'oversell'],
      [[String(c.callers), ...side(c.plain), ...side(c.priced), `${f(c.ratio * 100, 1)}%`, String(c.plain.check.violations.length + c.priced.check.violations.length)]],
    ),
  ].join('\n');
}

export function pricedTargets(c: PricedFlashCell | null): Target[] {
  if (!c) return [];
  return [{ name: `flash sale with three pricing rules within 10% of the plain one (${c.callers} callers)`, met: c.ratio >= 0.9, detail: `${f(c.priced.load.reservationsPerSecond)} vs ${f(c.plain.load.reservationsPerSecond)} res/s (${f(c.ratio * 100, 1)}%)` }];
}

/** The StreamInventory scenario (absent when not run). */
export function streamTable(c: StreamCell | null): string {
  if (!c) return '';
  return [
    `\nStreamInventory: one event, ${c.callers} reservations in flight over ${c.streams} streams, beside the unary echo, interleaved`,
    grid(
      ['in flight', 'stream res/s', 'p50 ms', 'p99 ms', 'CPU µs/res srv / cli', 'echo calls/s', 'p50 ms', 'p99 ms', 'CPU µs/call srv / cli', 'stream / echo', 'oversell'],
      [[String(c.callers), ...side(c.stream), ...side(c.echo), `${f(c.echoRatio, 2)}×`, String(c.stream.check.violations.length)]],
    ),
    `the whole machine's CPU µs per reservation or call, service + load generator + Postgres and Redis = total (stream / echo): ${machineCpu(c.stream)} / ${machineCpu(c.echo)}`,
  ].join('\n');
}

export function streamTargets(c: StreamCell | null): Target[] {
  if (!c) return [];
  return [{ name: `StreamInventory ≥ 1.5× the unary echo's calls/s (${c.callers} in flight over ${c.streams} streams)`, met: c.echoRatio >= 1.5, detail: `${f(c.reservationsPerSecond)} res/s vs ${f(c.echo.load.reservationsPerSecond)} calls/s (${f(c.echoRatio, 2)}×)` }];
}
