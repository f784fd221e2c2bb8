/**
 * `npm run bench`: run.ts (in-process actor vs row lock) in a child process, then, on a
 * fresh stack in this process, the gRPC scenarios: flash sale (flashSale.ts), the flash sale
 * with three pricing rules beside the plain one (pricedFlashSale.ts) and many events (manyEvents.ts); then recovery (recovery.ts) on a third stack with a snapshot
 * interval above the 10,000 tail rows; then cached REST reads vs a bare Koa route
 * (cachedRead.ts, on a stack with RATE_LIMIT_POINTS raised) and failover of a killed owner
 * in a 2-pod process cluster (failover.ts), and search over 50,000 seeded events, cached
 * and uncached (searchBench.ts); StreamInventory (streamBench.ts: 64 reservations in flight
 * over 4 streams beside the unary echo) runs on the first stack; and the heap an actor's
 * state takes per ticket with the time its snapshot takes to reload (memory.ts, in a child
 * process; BENCH_MEMORY_TICKETS, 100000). Prints tables, writes
 * bench/results/<timestamp>-scenarios.json and bench/results/latest.svg.
 *
 * `npm run bench -- --smoke`: every scenario once, briefly (about 1 s measured, smaller
 * catalogs, one failover), to show that each one runs; targets are printed but not checked,
 * nothing is charted, results go to <timestamp>-smoke.json. Exits 0 when every scenario ran
 * and no oversell was found. CI runs it.
 *
 * Env: as run.ts (BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_SLICE_SECONDS, BENCH_CALLERS,
 *      BENCH_POOL_MAX), plus BENCH_SCENARIOS (comma list of inproc,flash,priced,many,stream,recovery,cached,failover,search,flood,memory;
 *      default all), BENCH_EVENTS (many-events count, 1000), BENCH_CONNECTIONS (cached-read
 *      autocannon connections, 32), BENCH_LEASE_MS (failover SHARD_LEASE_MS, 2000) and
 *      BENCH_FAILOVER_REPS (3), BENCH_SEARCH_EVENTS (50000) and BENCH_SEARCH_CONNECTIONS (16).
 * The gRPC callers run in a child process (loadChild.ts); CPU µs/res is this process's CPU
 * (the service and its gRPC server, or the echo server) during measured slices ÷
 * reservations, with the child's client CPU and the databases' CPU reported beside it.
 */
import { spawn } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cachedReadBench, type CachedReadResult } from './cachedRead.js';
import { benchChart } from './benchChart.js';
import { failoverBench, type FailoverResult } from './failover.js';
import { startLoadChild } from './loadDriver.js';
import { flashSaleCell, warmService, WARMUP_CALLERS, type FlashCell, type ScenarioOptions } from './flashSale.js';
import { pricedFlashSaleCell, type PricedFlashCell } from './pricedFlashSale.js';
import { manyEventsCell, type ManyEventsCell } from './manyEvents.js';
import { recoveryBench, type RecoveryResult } from './recovery.js';
import { memoryBench, memoryTable, memoryTargets, type MemoryResult } from './memory.js';
import { SEARCH_CONNECTIONS, SEARCH_EVENTS, searchBench, searchTable, type SearchBenchResult } from './searchBench.js';
import { READ_FLOOD_ENV, readFloodBench, readFloodTable, readFloodTargets, type ReadFloodResult } from './readFlood.js';
import { startBenchStack } from './stack.js';
import { streamCell, type StreamCell } from './streamBench.js';
import { extraTables, extraTargets, pricedTable, pricedTargets, streamTable, streamTargets, table, targets } from './report.js';

const SMOKE = process.argv.includes('--smoke');
/** --smoke: short runs and small catalogs unless the environment says otherwise. */
if (SMOKE) {
  const defaults: Record<string, string> = { BENCH_SECONDS: '1', BENCH_WARMUP_SECONDS: '0.3', BENCH_SERVICE_WARMUP_SECONDS: '0.5', BENCH_CALLERS: '1,64', BENCH_EVENTS: '50', BENCH_FAILOVER_REPS: '1', BENCH_CONNECTIONS: '8' };
  for (const [k, v] of Object.entries(defaults)) process.env[k] ??= v;
}

const num = (name: string, fallback: number) => {
  const n = Number(process.env[name] || fallback);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const SECONDS = num('BENCH_SECONDS', 5);
/** Load on an event of its own before the first gRPC cell: the service runs warm, as a pod that has served a while does. */
const SERVICE_WARMUP_SECONDS = num('BENCH_SERVICE_WARMUP_SECONDS', 5);
const POOL_MAX = Math.floor(num('BENCH_POOL_MAX', 20));
const EVENTS = Math.floor(num('BENCH_EVENTS', 1000));
const CALLERS = (process.env.BENCH_CALLERS ?? '1,8,64').split(',').map(Number);
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? 'inproc,flash,priced,many,stream,recovery,cached,failover,search,flood,memory').split(',').map((s) => s.trim()));
/** StreamInventory: reservations in flight, and the streams they are spread over. */
const STREAM_IN_FLIGHT = Math.floor(num('BENCH_STREAM_IN_FLIGHT', 64));
const STREAMS = Math.floor(num('BENCH_STREAMS', 4));
/** Recovery's issued tickets and journal rows after the last snapshot; search's catalog; the memory scenario's tickets. */
const RECOVERY_SIZE = SMOKE ? { tickets: 2_000, tail: 500 } : { tickets: 50_000, tail: 10_000 };
const SEARCH_CATALOG = SMOKE && !process.env.BENCH_SEARCH_EVENTS ? 2_000 : SEARCH_EVENTS;
const MEMORY_TICKETS = Math.floor(num('BENCH_MEMORY_TICKETS', SMOKE ? 10_000 : 100_000));
const FLOOD_READERS = Math.floor(num('BENCH_FLOOD_READERS', 64));
const CONNECTIONS = Math.floor(num('BENCH_CONNECTIONS', 32));
const LEASE_MS = Math.floor(num('BENCH_LEASE_MS', 2000));
const FAILOVER_REPS = Math.floor(num('BENCH_FAILOVER_REPS', 3));
let aborted = false;
const opts: ScenarioOptions = {
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS || 1),
  seconds: SECONDS,
  slices: Math.max(1, Math.round(SECONDS / num('BENCH_SLICE_SECONDS', 1))),
  aborted: () => aborted,
  capacity: 10_000_000,
  holdSeconds: 600,
  poolMax: POOL_MAX,
};
const say = (l: string) => process.stderr.write(`${l}\n`);
process.stdout.on('error', () => undefined);

function runChild(): Promise<number> {
  return new Promise((resolve) => {
    // The child reads the same BENCH_* environment (--smoke has set its short defaults).
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./run.ts', import.meta.url))], { stdio: 'inherit', env: process.env });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const onSignal = () => {
    if (aborted) process.exit(130);
    aborted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const startedAt = new Date().toISOString();
  let exit = 0;
  if (SCENARIOS.has('inproc')) exit = await runChild();

  const flash: FlashCell[] = [];
  let priced: PricedFlashCell | null = null;
  let many: ManyEventsCell | null = null;
  let recovery: RecoveryResult | null = null;
  let flood: ReadFloodResult | null = null;
  let stream: StreamCell | null = null;
  if (SCENARIOS.has('flash') || SCENARIOS.has('priced') || SCENARIOS.has('flood') || SCENARIOS.has('many') || SCENARIOS.has('stream')) {
    // The flood's readers share one address: the stack raises the per-caller read budget for them (readFlood.ts).
    const stack = await startBenchStack({ poolMax: POOL_MAX, log: say, ...(SCENARIOS.has('flood') ? { env: READ_FLOOD_ENV } : {}) });
    const child = await startLoadChild();
    const grpcOpts: ScenarioOptions = { ...opts, databaseCpu: stack.databaseCpu };
    try {
      say(`warming the service: ${SERVICE_WARMUP_SECONDS} s of ${WARMUP_CALLERS} callers on an event of its own…`);
      await warmService(stack, child, WARMUP_CALLERS, SERVICE_WARMUP_SECONDS, grpcOpts.holdSeconds);
      if (SCENARIOS.has('flash')) {
        for (const c of CALLERS) {
          if (aborted) break;
          say(`flash sale via gRPC: ${c} caller(s)…`);
          flash.push(await flashSaleCell(stack, child, c, grpcOpts));
        }
      }
      if (SCENARIOS.has('priced') && !aborted) {
        const c = CALLERS[CALLERS.length - 1] ?? 64;
        say(`flash sale with three pricing rules beside the plain one: ${c} callers…`);
        priced = await pricedFlashSaleCell(stack, child, c, grpcOpts);
      }
      if (SCENARIOS.has('flood') && !aborted) {
        const c = CALLERS[CALLERS.length - 1] ?? 64;
        say(`flash sale under a read flood: ${c} callers, ${FLOOD_READERS} readers…`);
        flood = await readFloodBench(stack, child, { ...grpcOpts, callers: c, readers: FLOOD_READERS });
      }
      if (SCENARIOS.has('many') && !aborted) {
        const c = CALLERS[CALLERS.length - 1] ?? 64;
        say(`many events: ${EVENTS} events, ${c} callers…`);
        many = await manyEventsCell(stack, child, EVENTS, c, grpcOpts);
      }
      if (SCENARIOS.has('stream') && !aborted) {
        say(`StreamInventory: ${STREAM_IN_FLIGHT} in flight over ${STREAMS} streams, beside the unary echo…`);
        stream = await streamCell(stack, child, STREAM_IN_FLIGHT, STREAMS, grpcOpts);
      }
    } finally {
      await child.close();
      await stack.stop();
    }
  }
  if (SCENARIOS.has('recovery') && !aborted) {
    const stack = await startBenchStack({ poolMax: POOL_MAX, log: say, env: { INVENTORY_SNAPSHOT_EVERY_EVENTS: '1000000' } });
    try {
      recovery = await recoveryBench(stack, RECOVERY_SIZE.tickets, RECOVERY_SIZE.tail, say);
    } finally {
      await stack.stop();
    }
  }
  let memory: MemoryResult | null = null;
  if (SCENARIOS.has('memory') && !aborted) {
    say(`memory: ${MEMORY_TICKETS} tickets…`);
    memory = await memoryBench(MEMORY_TICKETS);
  }
  let cached: CachedReadResult | null = null;
  if (SCENARIOS.has('cached') && !aborted) {
    const stack = await startBenchStack({ poolMax: POOL_MAX, log: say, env: { RATE_LIMIT_POINTS: '1000000' } });
    try {
      cached = await cachedReadBench(stack, CONNECTIONS, SECONDS, say);
    } finally {
      await stack.stop();
    }
  }
  let failover: FailoverResult | null = null;
  if (SCENARIOS.has('failover') && !aborted) {
    try {
      failover = await failoverBench(FAILOVER_REPS, LEASE_MS, say, () => aborted);
    } catch (err) {
      // Report what the other scenarios measured; the run still exits non-zero.
      say(`failover scenario failed: ${(err as Error).stack ?? String(err)}`);
      exit = 1;
    }
  }
  let search: SearchBenchResult | null = null;
  if (SCENARIOS.has('search') && !aborted) {
    const stack = await startBenchStack({ poolMax: POOL_MAX, log: say, env: { RATE_LIMIT_POINTS: '1000000' } });
    try {
      search = await searchBench(stack, SEARCH_CATALOG, SEARCH_CONNECTIONS, SECONDS, say);
    } finally {
      await stack.stop();
    }
  }
  if (aborted) return 1;

  console.log(table(flash, many, recovery, opts));
  console.log(pricedTable(priced));
  console.log(streamTable(stream));
  console.log(extraTables(cached, failover));
  if (memory) console.log(memoryTable(memory));
  if (search) console.log(searchTable(search));
  if (flood) console.log(readFloodTable(flood));
  const t = [...targets(flash, many, recovery), ...pricedTargets(priced), ...streamTargets(stream), ...(flood ? readFloodTargets(flood) : []), ...extraTargets(cached, failover), ...(memory ? memoryTargets(memory) : [])];
  // A smoke run is too short to judge a target: they are shown, not checked.
  console.log(`\ntargets${SMOKE ? ' (smoke run: not checked)' : ''}:\n${t.map((x) => `  ${x.met ? 'MET   ' : 'MISSED'} ${x.name}: ${x.detail}`).join('\n')}`);
  const violations = [
    ...flash.flatMap((c) => [...c.actor.check.violations, ...c.quiet.check.violations, ...c.rowLock.check.violations]),
    ...(priced ? [...priced.plain.check.violations, ...priced.priced.check.violations] : []),
    ...(many ? [...many.actor.check.violations, ...many.rowLock.check.violations] : []),
    ...(stream ? stream.stream.check.violations : []),
  ];
  console.log(`oversell/mismatch count: ${violations.length}${violations.length ? `\n  ${violations.join('\n  ')}` : ''}`);

  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${startedAt.replace(/[:.]/g, '-')}-${SMOKE ? 'smoke' : 'scenarios'}.json`;
  const settings = { ...opts, aborted: undefined, smoke: SMOKE, callers: CALLERS, events: EVENTS, connections: CONNECTIONS, leaseMs: LEASE_MS, failoverReps: FAILOVER_REPS, streamInFlight: STREAM_IN_FLIGHT, streams: STREAMS, recovery: RECOVERY_SIZE, searchEvents: SEARCH_CATALOG, memoryTickets: MEMORY_TICKETS };
  const payload = { startedAt, finishedAt: new Date().toISOString(), settings, flash, priced, flood, many, stream, recovery, memory, cached, failover, search, targets: t, violations };
  await writeFile(`${file}.tmp`, `${JSON.stringify(payload, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  if (!SMOKE) await writeFile(`${dir}latest.svg`, benchChart({ startedAt, flash, many, recovery, cached, failover }));
  console.log(`results: ${file}${SMOKE ? '' : `\nchart: ${dir}latest.svg`}`);
  return violations.length > 0 ? 1 : exit;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 10_000).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
