/**
 * Scenario 1, hot-event flash sale through gRPC: N concurrent callers reserving 1–4 seats
 * of ONE event with ReserveTickets over a real grpc-js client (actor side) vs the same
 * workload on the Postgres row-lock baseline, plus a bare grpc-js echo of a
 * ReserveTicketsRequest-sized message (the physical limit of a unary call here). Sides
 * run interleaved in the same cell; the callers run in the load child, and the host's
 * (server's) CPU is measured per side (interleave.ts). A fourth side is the actor side
 * with the service's logs off (level `silent` during its slices, its own event): what the
 * per-call log line costs, measured in the same interleaved run rather than across runs,
 * whose spread on this machine is larger than that cost.
 */
import { checkActor, checkRowLock, type CellCheck } from './checks.js';
import { startEchoServer } from './echo.js';
import { reserveRequestBytes } from './grpcClient.js';
import { runInterleaved, type InterleaveOptions, type SideResult } from './interleave.js';
import type { LoadChild } from './loadDriver.js';
import { rowLockSeller } from './rowLock.js';
import { serverTimes, type ServerTimes } from './serverTimes.js';
import { createCatalog, grpcReserveSide, type BenchStack } from './stack.js';

export interface FlashCell {
  readonly callers: number;
  readonly actor: SideResult & { readonly check: CellCheck };
  /** The actor side with the service's logs off (same service, its own event). */
  readonly quiet: SideResult & { readonly check: CellCheck };
  readonly rowLock: SideResult & { readonly check: CellCheck };
  readonly echo: SideResult;
  readonly speedUp: number;
  readonly p99Ratio: number;
  readonly cpuVsEcho: number;
  /** The mean server time per call and per commit of both actor sides (warm-up included). */
  readonly server: ServerTimes;
}

export interface ScenarioOptions extends Omit<InterleaveOptions, 'callers'> {
  readonly capacity: number;
  readonly holdSeconds: number;
  readonly poolMax: number;
}

/** Callers of the service's warm-up. */
export const WARMUP_CALLERS = 64;

/**
 * Reservations on an event of its own for `seconds`, measuring nothing, before the first
 * cell. A fresh service at one caller spends a fifth of its CPU in the JIT compiler for
 * several seconds (a cell's own 1 s warm-up at one caller is about 300 calls), which a pod
 * that has served a while no longer pays; the echo server has little code to compile.
 */
export async function warmService(stack: BenchStack, child: LoadChild, callers: number, seconds: number, holdSeconds: number): Promise<void> {
  const cat = await createCatalog(stack.admin, 'bench service warm-up', 10_000_000);
  const name = 'serviceWarmUp';
  await child.setup([grpcReserveSide(stack, name, [cat], holdSeconds)]);
  await child.slice(name, callers, seconds * 1000, 0);
  await stack.service.inventory.registry.passivate(cat.eventId);
}

export async function flashSaleCell(stack: BenchStack, child: LoadChild, callers: number, o: ScenarioOptions): Promise<FlashCell> {
  const actorCat = await createCatalog(stack.admin, `bench flash grpc c${callers}`, o.capacity);
  const quietCat = await createCatalog(stack.admin, `bench flash grpc logs off c${callers}`, o.capacity);
  const rowCat = await createCatalog(stack.admin, `bench flash row-lock c${callers}`, o.capacity);
  const echo = await startEchoServer();
  const names = { actor: `actor${callers}`, quiet: `actorLogsOff${callers}`, rowLock: `rowLock${callers}`, echo: `echo${callers}` };
  try {
    await child.setup([
      grpcReserveSide(stack, names.actor, [actorCat], o.holdSeconds),
      grpcReserveSide(stack, names.quiet, [quietCat], o.holdSeconds),
      { kind: 'rowLock', name: names.rowLock, databaseUrl: stack.databaseUrl, poolMax: o.poolMax, targets: [rowCat], holdSeconds: o.holdSeconds },
      { kind: 'echo', name: names.echo, port: echo.port, payloadBytes: reserveRequestBytes() },
    ]);
    const times = await serverTimes(stack.service.metrics.registry);
    const beforeSlice = (side: string) => stack.logsOff(side === names.quiet);
    let r: Map<string, SideResult>;
    try {
      r = await runInterleaved(child, [names.actor, names.quiet, names.rowLock, names.echo], { ...o, callers, beforeSlice });
    } finally {
      stack.logsOff(false);
    }
    const server = await times.stop();
    const actor = r.get(names.actor) as SideResult;
    const quiet = r.get(names.quiet) as SideResult;
    const rowLock = r.get(names.rowLock) as SideResult;
    const echoR = r.get(names.echo) as SideResult;
    return {
      callers,
      actor: { ...actor, check: await checkActor(stack.service.inventory.service, stack.admin, actorCat, actor.load) },
      quiet: { ...quiet, check: await checkActor(stack.service.inventory.service, stack.admin, quietCat, quiet.load) },
      rowLock: { ...rowLock, check: await checkRowLock(rowLockSeller(stack.admin, rowCat, o.holdSeconds), stack.admin, rowCat, rowLock.load) },
      echo: echoR,
      speedUp: actor.load.reservationsPerSecond / rowLock.load.reservationsPerSecond,
      p99Ratio: actor.load.latency.p99Ms / rowLock.load.latency.p99Ms,
      cpuVsEcho: actor.cpuUsPerCall / echoR.cpuUsPerCall,
      server,
    };
  } finally {
    await echo.close();
    await stack.service.inventory.registry.passivate(actorCat.eventId);
    await stack.service.inventory.registry.passivate(quietCat.eventId);
  }
}
