/**
 * The load child: a separate Node process (started by loadDriver.ts over IPC) that holds
 * the bench's callers — a grpc-js client of the service (unary or StreamInventory), the
 * row-lock seller's pg pool and the echo client — and runs closed-loop slices on request. Tallies stay here until the
 * host asks for the results; each slice reports this process's CPU (client side).
 */
import type pg from 'pg';
import { echoClient } from './echo.js';
import { readClient, reserveClient, reserveRequest, type ReserveClient } from './grpcClient.js';
import { streamReserveClient } from './streamClient.js';
import type { Reply, Request, ReserveTarget, ResultsReply, SideSpec, SliceReply } from './loadProtocol.js';
import { createRowLockPool, rowLockSeller } from './rowLock.js';
import { newTally, resultOf, runSlice, type Tally } from './workload.js';

interface Side {
  readonly call: (quantity: number) => Promise<void>;
  readonly tally: Tally;
  callers: number;
  close(): Promise<void>;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const sides = new Map<string, Side>();

/** Reservations of 1–4 seats of a target picked uniformly, through `client`. */
function reserveSide(client: ReserveClient, targets: readonly ReserveTarget[], holdSeconds: number): Side {
  return {
    call: (q) => {
      const t = pick(targets);
      return client.reserve(reserveRequest(t.eventId, t.ticketTypeId, q, holdSeconds));
    },
    tally: newTally(),
    callers: 0,
    close: async () => client.close(),
  };
}

async function build(spec: SideSpec): Promise<Side> {
  switch (spec.kind) {
    case 'grpcReserve':
      return reserveSide(await reserveClient(spec.port, spec.jwtSecret), spec.targets, spec.holdSeconds);
    case 'grpcStream':
      return reserveSide(await streamReserveClient(spec.port, spec.jwtSecret, spec.streams), spec.targets, spec.holdSeconds);
    case 'rowLock': {
      const pool: pg.Pool = createRowLockPool(spec.databaseUrl, spec.poolMax);
      const sellers = spec.targets.map((t) => rowLockSeller(pool, t, spec.holdSeconds));
      return { call: (q) => pick(sellers).reserve(q), tally: newTally(), callers: 0, close: () => pool.end() };
    }
    case 'grpcRead': {
      const client = await readClient(spec.port);
      let n = 0;
      return { call: () => client.read(pick(spec.targets).eventId, n++ % 2 === 0), tally: newTally(), callers: 0, close: async () => client.close() };
    }
    case 'echo': {
      const client = await echoClient(spec.port, spec.payloadBytes);
      return { call: () => client.call(), tally: newTally(), callers: 0, close: async () => client.close() };
    }
  }
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'setup':
      for (const spec of req.sides) sides.set(spec.name, await build(spec));
      return null;
    case 'slice': {
      const side = sides.get(req.side);
      if (!side) throw new Error(`no side ${req.side}`);
      side.callers = req.callers;
      const before = process.cpuUsage();
      await runSlice(side.tally, { callers: req.callers, warmupMs: req.warmupMs, measureMs: req.measureMs, call: side.call, aborted: () => false });
      const d = process.cpuUsage(before);
      const reply: SliceReply = { clientCpuUs: d.user + d.system };
      return reply;
    }
    case 'results': {
      const out: Record<string, ReturnType<typeof resultOf>> = {};
      for (const [name, s] of sides) out[name] = resultOf(s.callers, s.tally);
      const reply: ResultsReply = out;
      return reply;
    }
    case 'close':
      for (const s of sides.values()) await s.close();
      sides.clear();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (msg: { id: number } & Request) => {
  handle(msg).then(
    (value) => process.send?.({ id: msg.id, ok: true, value } satisfies Reply),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(0));
