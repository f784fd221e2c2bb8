/**
 * Scenario 1, hot-event flash sale through gRPC: N concurrent callers reserving 1–4 seats
 * of ONE event with ReserveTickets over a real grpc-js client (actor side) vs the same
 * workload on the Postgres row-lock baseline, plus a bare grpc-js echo of a
 * ReserveTicketsRequest-sized message (the physical limit of a unary call here). Sides
 * run interleaved in the same cell; every side's process CPU is measured (interleave.ts).
 */
import { checkActor, checkRowLock, type CellCheck } from './checks.js';
import { startEcho } from './echo.js';
import { reserveClient, reserveRequest, reserveRequestBytes } from './grpcClient.js';
import { runInterleaved, type InterleaveOptions, type SideResult } from './interleave.js';
import { createRowLockPool, rowLockSeller } from './rowLock.js';
import { createCatalog, type BenchStack } from './stack.js';

export interface FlashCell {
  readonly callers: number;
  readonly actor: SideResult & { readonly check: CellCheck };
  readonly rowLock: SideResult & { readonly check: CellCheck };
  readonly echo: SideResult;
  readonly speedUp: number;
  readonly p99Ratio: number;
  readonly cpuVsEcho: number;
}

export interface ScenarioOptions extends Omit<InterleaveOptions, 'callers'> {
  readonly capacity: number;
  readonly holdSeconds: number;
  readonly poolMax: number;
}

export async function flashSaleCell(stack: BenchStack, callers: number, o: ScenarioOptions): Promise<FlashCell> {
  const actorCat = await createCatalog(stack.admin, `bench flash grpc c${callers}`, o.capacity);
  const rowCat = await createCatalog(stack.admin, `bench flash row-lock c${callers}`, o.capacity);
  const client = await reserveClient(stack.service.grpcPort, stack.config.auth.jwtSecret ?? '');
  const pool = createRowLockPool(stack.databaseUrl, o.poolMax);
  const seller = rowLockSeller(pool, rowCat, o.holdSeconds);
  const echo = await startEcho(reserveRequestBytes());
  try {
    const r = await runInterleaved(
      [
        { name: 'actor', call: (q) => client.reserve(reserveRequest(actorCat.eventId, actorCat.ticketTypeId, q, o.holdSeconds)) },
        { name: 'rowLock', call: (q) => seller.reserve(q) },
        { name: 'echo', call: () => echo.call() },
      ],
      { ...o, callers },
    );
    const actor = r.get('actor') as SideResult;
    const rowLock = r.get('rowLock') as SideResult;
    const echoR = r.get('echo') as SideResult;
    return {
      callers,
      actor: { ...actor, check: await checkActor(stack.service.inventory.service, stack.admin, actorCat, actor.load) },
      rowLock: { ...rowLock, check: await checkRowLock(seller, stack.admin, rowCat, rowLock.load) },
      echo: echoR,
      speedUp: actor.load.reservationsPerSecond / rowLock.load.reservationsPerSecond,
      p99Ratio: actor.load.latency.p99Ms / rowLock.load.latency.p99Ms,
      cpuVsEcho: actor.cpuUsPerCall / echoR.cpuUsPerCall,
    };
  } finally {
    client.close();
    await echo.close();
    await pool.end();
    await stack.service.inventory.registry.passivate(actorCat.eventId);
  }
}
