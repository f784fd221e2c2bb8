/**
 * StreamInventory: one event, `callers` reservations of 1–4 seats in flight (64 by
 * default) spread over `streams` bidirectional streams (4) on one connection, against the
 * bare grpc-js echo of a ReserveTicketsRequest-sized unary call (echo.ts) measured in the
 * same run, interleaved (interleave.ts). Reports reservations/s and `echoRatio`, the
 * stream's reservations/s over the echo's calls/s (target ≥ 1.5: a stream spares the
 * per-call HTTP/2 stream, headers and auth a unary call pays), and checks for oversell.
 * Each stream may have STREAM_MAX_IN_FLIGHT items in flight (64 by default: the 16 per
 * stream here never reach it).
 */
import { checkActor, type CellCheck } from './checks.js';
import { startEchoServer } from './echo.js';
import type { ScenarioOptions } from './flashSale.js';
import { reserveRequestBytes } from './grpcClient.js';
import { runInterleaved, type SideResult } from './interleave.js';
import type { LoadChild } from './loadDriver.js';
import { createCatalog, type BenchStack } from './stack.js';

export interface StreamCell {
  readonly callers: number;
  readonly streams: number;
  readonly stream: SideResult & { readonly check: CellCheck };
  readonly echo: SideResult;
  readonly reservationsPerSecond: number;
  /** The stream's reservations/s ÷ the unary echo's calls/s, same run. */
  readonly echoRatio: number;
}

export async function streamCell(stack: BenchStack, child: LoadChild, callers: number, streams: number, o: ScenarioOptions): Promise<StreamCell> {
  const cat = await createCatalog(stack.admin, `bench stream c${callers}`, o.capacity);
  const echo = await startEchoServer();
  const names = { stream: `stream${callers}`, echo: `streamEcho${callers}` };
  try {
    await child.setup([
      { kind: 'grpcStream', name: names.stream, port: stack.service.grpcPort, jwtSecret: stack.config.auth.jwtSecret ?? '', targets: [cat], holdSeconds: o.holdSeconds, streams },
      { kind: 'echo', name: names.echo, port: echo.port, payloadBytes: reserveRequestBytes() },
    ]);
    const r = await runInterleaved(child, [names.stream, names.echo], { ...o, callers });
    const stream = r.get(names.stream) as SideResult;
    const echoR = r.get(names.echo) as SideResult;
    return {
      callers,
      streams,
      stream: { ...stream, check: await checkActor(stack.service.inventory.service, stack.admin, cat, stream.load) },
      echo: echoR,
      reservationsPerSecond: stream.load.reservationsPerSecond,
      echoRatio: stream.load.reservationsPerSecond / echoR.load.reservationsPerSecond,
    };
  } finally {
    await echo.close();
    await stack.service.inventory.registry.passivate(cat.eventId);
  }
}
