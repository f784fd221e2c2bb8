/**
 * Scenario 2, many events: 1,000 on-sale events (one ticket type each) per side; every call
 * reserves 1–4 seats of an event picked uniformly at random. Actor side through gRPC
 * (ReserveTickets), baseline the row-lock seller. All 1,000 actors are activated (one
 * GetLevels each) before the warm-up, so the cell measures steady state, not activation.
 */
import type pg from 'pg';
import { runInterleaved, type SideResult } from './interleave.js';
import type { ScenarioOptions } from './flashSale.js';
import type { LoadChild } from './loadDriver.js';
import { rowLockSeller } from './rowLock.js';
import { grpcReserveSide, type BenchStack, type CatalogRows } from './stack.js';
import type { LoadResult } from './workload.js';

export interface ManyCheck {
  readonly violations: readonly string[];
  readonly taken: number;
  readonly durableReservations: number;
}
export interface ManyEventsCell {
  readonly events: number;
  readonly callers: number;
  readonly activationMs: number;
  readonly actor: SideResult & { readonly check: ManyCheck };
  readonly rowLock: SideResult & { readonly check: ManyCheck };
  readonly speedUp: number;
  readonly p99Ratio: number;
}

async function createCatalogs(db: pg.Pool, label: string, n: number, capacity: number): Promise<CatalogRows[]> {
  const { rows } = await db.query<{ event_id: string; ticket_type_id: string }>(
    `WITH ev AS (
       INSERT INTO events (title, category, start_date, end_date)
       SELECT $1 || ' #' || g, 'bench', now() + interval '30 days', now() + interval '30 days 3 hours' FROM generate_series(1, $2) g
       RETURNING id)
     INSERT INTO ticket_types (event_id, name, price_minor, currency, quantity, available_quantity, max_per_purchase)
     SELECT id, 'General admission', 5000, 'USD', $3, $3, 10 FROM ev
     RETURNING event_id, id AS ticket_type_id`,
    [label, n, capacity],
  );
  return rows.map((r) => ({ eventId: r.event_id, ticketTypeId: r.ticket_type_id, capacity, priceMinor: 5000 }));
}

async function durable(db: pg.Pool, cats: readonly CatalogRows[]): Promise<{ rows: number; quantity: number }> {
  const { rows } = await db.query<{ n: number; q: number }>(
    `SELECT count(*)::int AS n,
            coalesce(sum((SELECT sum((i->>'quantity')::int) FROM jsonb_array_elements(items) i)), 0)::int AS q
     FROM reservations WHERE event_id = ANY($1::uuid[]) AND status = 'HELD'`,
    [cats.map((c) => c.eventId)],
  );
  return { rows: rows[0]?.n ?? 0, quantity: rows[0]?.q ?? 0 };
}

async function check(name: string, db: pg.Pool, cats: readonly CatalogRows[], load: LoadResult, takenOf: (c: CatalogRows) => Promise<number>): Promise<ManyCheck> {
  const v: string[] = [];
  let taken = 0;
  for (const c of cats) {
    const t = await takenOf(c);
    if (!(t >= 0 && t <= c.capacity)) v.push(`${name}: event ${c.eventId} oversold: ${t} of ${c.capacity}`);
    taken += t;
  }
  const d = await durable(db, cats);
  if (taken !== load.ackedQuantity) v.push(`${name}: ${taken} seats taken but ${load.ackedQuantity} acknowledged`);
  if (d.rows !== load.ackedCalls) v.push(`${name}: ${d.rows} reservation rows but ${load.ackedCalls} acknowledged`);
  if (d.quantity !== load.ackedQuantity) v.push(`${name}: ${d.quantity} seats in rows but ${load.ackedQuantity} acknowledged`);
  return { violations: v, taken, durableReservations: d.rows };
}

export async function manyEventsCell(stack: BenchStack, child: LoadChild, events: number, callers: number, o: ScenarioOptions): Promise<ManyEventsCell> {
  const actorCats = await createCatalogs(stack.admin, 'bench many grpc', events, o.capacity);
  const rowCats = await createCatalogs(stack.admin, 'bench many row-lock', events, o.capacity);
  const inventory = stack.service.inventory.service;
  const t0 = performance.now();
  for (let i = 0; i < actorCats.length; i += 50) await Promise.all(actorCats.slice(i, i + 50).map((c) => inventory.levels(c.eventId)));
  const activationMs = performance.now() - t0;
  try {
    await child.setup([
      grpcReserveSide(stack, 'manyActor', actorCats, o.holdSeconds),
      { kind: 'rowLock', name: 'manyRowLock', databaseUrl: stack.databaseUrl, poolMax: o.poolMax, targets: rowCats, holdSeconds: o.holdSeconds },
    ]);
    const r = await runInterleaved(child, ['manyActor', 'manyRowLock'], { ...o, callers });
    const actor = r.get('manyActor') as SideResult;
    const rowLock = r.get('manyRowLock') as SideResult;
    const actorCheck = await check('actor', stack.admin, actorCats, actor.load, async (c) => {
      const l = (await inventory.levels(c.eventId)).levels.find((x) => x.ticketTypeId === c.ticketTypeId);
      return l ? l.sold + l.held : Number.NaN;
    });
    const rowCheck = await check('row-lock', stack.admin, rowCats, rowLock.load, async (c) => c.capacity - (await rowLockSeller(stack.admin, c, o.holdSeconds).available()));
    return {
      events,
      callers,
      activationMs,
      actor: { ...actor, check: actorCheck },
      rowLock: { ...rowLock, check: rowCheck },
      speedUp: actor.load.reservationsPerSecond / rowLock.load.reservationsPerSecond,
      p99Ratio: actor.load.latency.p99Ms / rowLock.load.latency.p99Ms,
    };
  } finally {
    for (let i = 0; i < actorCats.length; i += 50) {
      await Promise.all(actorCats.slice(i, i + 50).map((c) => stack.service.inventory.registry.passivate(c.eventId)));
    }
  }
}
