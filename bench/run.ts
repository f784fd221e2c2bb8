/**
 * `npm run bench`: one EventInventory actor (group commit: one fenced Postgres transaction
 * per turn, replies only after it is durable) against the row-lock way (one transaction
 * per reservation holding the counter row's lock until its commit is durable), on the
 * same durable Postgres in the same run, at 1, 8 and 64 concurrent callers.
 *
 * Each cell warms both sides up, then runs them in interleaved slices (A B B A …) that
 * add up to the measured time per side, so a noisy neighbour or a slow patch of the disk
 * hits both sides alike instead of whichever ran at that moment.
 *
 * Env: BENCH_SECONDS (measured seconds per side and cell, default 5), BENCH_WARMUP_SECONDS
 *      (1), BENCH_SLICE_SECONDS (1), BENCH_CALLERS (comma list, "1,8,64"), BENCH_POOL_MAX
 *      (Postgres pool of each side, 20).
 * Prints a table and writes bench/results/<timestamp>.json. Exits 1 on any oversell or
 * mismatch between acknowledged and recorded reservations.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CellCheck } from './checks.js';
import { actorContender, rowLockContender, type Contender, type SideName } from './contenders.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { newTally, resultOf, runSlice, type LoadResult, type Tally } from './workload.js';

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got ${raw}`);
  return n;
}

const SECONDS = envNumber('BENCH_SECONDS', 5, 0.1);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 1, 0);
const SLICES = Math.max(1, Math.round(SECONDS / envNumber('BENCH_SLICE_SECONDS', 1, 0.1)));
const POOL_MAX = Math.floor(envNumber('BENCH_POOL_MAX', 20, 1));
const CALLERS = (process.env.BENCH_CALLERS ?? '1,8,64').split(',').map((s) => Number(s.trim()));
if (CALLERS.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_CALLERS must be a comma list of positive integers');
const CAPACITY = 10_000_000;
const HOLD_SECONDS = 600;

interface Side {
  readonly load: LoadResult;
  readonly check: CellCheck;
}
interface Cell {
  readonly callers: number;
  readonly actor: Side;
  readonly rowLock: Side;
  readonly speedUp: number;
}

let aborted = false;
const onSignal = () => {
  if (aborted) process.exit(130);
  aborted = true;
  process.stderr.write('\ninterrupted: finishing in-flight calls and shutting down (Ctrl-C again to kill)\n');
};
// `npm run bench | head` must not kill us before Postgres and Redis are stopped.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Warm both sides up, then interleave measured slices A B B A …; check both. */
async function runCell(stack: BenchStack, callers: number, index: number): Promise<Record<SideName, Side>> {
  const settings = { capacity: CAPACITY, holdSeconds: HOLD_SECONDS, poolMax: POOL_MAX };
  const sides: Contender[] = [];
  try {
    sides.push(await actorContender(stack, `c${callers} #${index}`, settings));
    sides.push(await rowLockContender(stack, `c${callers} #${index}`, settings));
    const tallies = new Map<Contender, Tally>(sides.map((c) => [c, newTally()]));
    const slice = (c: Contender, warmupMs: number, measureMs: number) =>
      runSlice(tallies.get(c) as Tally, { callers, warmupMs, measureMs, call: (q) => c.call(q), aborted: () => aborted });
    for (const c of sides) await slice(c, WARMUP_SECONDS * 1000, 0);
    for (let i = 0; i < SLICES && !aborted; i++) {
      for (const c of i % 2 === 0 ? sides : [...sides].reverse()) await slice(c, 0, (SECONDS * 1000) / SLICES);
    }
    const out: Partial<Record<SideName, Side>> = {};
    for (const c of sides) {
      const load = resultOf(callers, tallies.get(c) as Tally);
      out[c.name] = { load, check: await c.check(load) };
    }
    return out as Record<SideName, Side>;
  } finally {
    for (const c of sides) await c.close();
  }
}

const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function table(cells: readonly Cell[]): string {
  const head = ['callers', 'actor res/s', 'actor p50 ms', 'actor p99 ms', 'res/commit', 'row-lock res/s', 'row-lock p50 ms', 'row-lock p99 ms', 'speed-up'];
  const rows = cells.map((c) => [
    String(c.callers),
    f(c.actor.load.reservationsPerSecond),
    f(c.actor.load.latency.p50Ms, 2),
    f(c.actor.load.latency.p99Ms, 2),
    c.actor.check.commits ? f(c.actor.load.ackedCalls / c.actor.check.commits, 1) : '-',
    f(c.rowLock.load.reservationsPerSecond),
    f(c.rowLock.load.latency.p50Ms, 2),
    f(c.rowLock.load.latency.p99Ms, 2),
    `${f(c.speedUp, 2)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: readonly string[]) => `| ${r.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function machine(stack: BenchStack) {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: stack.postgresVersion,
    postgresSettings: stack.postgresSettings,
  };
}

async function writeResults(payload: unknown): Promise<string> {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  await writeFile(`${file}.tmp`, `${JSON.stringify(payload, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  return file;
}

async function main(): Promise<number> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const startedAt = new Date();
  say(`starting Postgres (fsync on) + Redis + service; ${CALLERS.length} cells × 2 sides × (${WARMUP_SECONDS} s warm-up + ${SLICES} slices, ${SECONDS} s)`);
  const stack = await startBenchStack({ poolMax: POOL_MAX, log: say });
  const cells: Cell[] = [];
  const violations: string[] = [];
  try {
    for (const [i, callers] of CALLERS.entries()) {
      if (aborted) break;
      say(`  ${callers} caller(s)…`);
      const { actor, rowLock } = await runCell(stack, callers, i);
      violations.push(...actor.check.violations, ...rowLock.check.violations); // checked even when cut short
      if (aborted) break; // a cut-short cell is not a result
      cells.push({ callers, actor, rowLock, speedUp: actor.load.reservationsPerSecond / rowLock.load.reservationsPerSecond });
    }

    const info = machine(stack);
    const errors = cells.flatMap((c) => [c.actor.load, c.rowLock.load]).filter((l) => l.errors > 0);
    console.log(`\nReservations of 1–4 seats, ${SECONDS} s per side and cell in ${SLICES} interleaved slices after ${WARMUP_SECONDS} s warm-up; pool ${POOL_MAX} per side; durable commits (fsync=${info.postgresSettings.fsync}, synchronous_commit=${info.postgresSettings.synchronous_commit})\n`);
    console.log(table(cells));
    console.log(`\nres/commit: acknowledged reserves per actor group commit (row-lock: 1 by construction)`);
    console.log(`machine: ${info.cpuCount} × ${info.cpuModel}, ${info.totalMemoryGiB} GiB, ${info.platform}; node ${info.node}`);
    console.log(`postgres: ${info.postgres}`);
    for (const c of cells) {
      for (const [name, s] of [['actor', c.actor], ['row-lock', c.rowLock]] as const) {
        if (s.load.errors > 0) console.log(`errors: ${c.callers} callers ${name}: ${s.load.errors} failed calls (first: ${s.load.firstError})`);
      }
    }
    console.log(`oversell/mismatch count: ${violations.length}${violations.length ? `\n  ${violations.join('\n  ')}` : ''}`);

    if (aborted) return 1; // no results file for a cut-short run
    const file = await writeResults({
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      aborted,
      machine: info,
      settings: { measureSeconds: SECONDS, warmupSeconds: WARMUP_SECONDS, slices: SLICES, callers: CALLERS, poolMaxPerSide: POOL_MAX, capacity: CAPACITY, seatsPerReservation: '1-4 uniform', holdSeconds: HOLD_SECONDS },
      cells,
      violations,
      erroredCells: errors.length,
    });
    console.log(`results: ${file}`);
    return violations.length > 0 ? 1 : 0;
  } finally {
    await stack.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if a stray handle still holds the loop, say so and leave.
    setTimeout(() => {
      say('bench: process still alive 10 s after shutdown; exiting');
      process.exit(code);
    }, 10_000).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
