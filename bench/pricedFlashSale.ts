/**
 * Scenario: the flash sale once more with dynamic pricing at work — three active rules on
 * the event (one `time`, one `demand`, one `velocity`, all matching, so every hold is priced
 * by the engine's result) — beside the plain flash sale, interleaved in the same cell. Both
 * sides are the gRPC actor path; the target is the priced side within 10 % of the plain one.
 */
import { checkActor, type CellCheck } from './checks.js';
import { runInterleaved, type SideResult } from './interleave.js';
import type { LoadChild } from './loadDriver.js';
import type { ScenarioOptions } from './flashSale.js';
import { createCatalog, grpcReserveSide, type BenchStack, type CatalogRows } from './stack.js';

export interface PricedFlashCell {
  readonly callers: number;
  readonly plain: SideResult & { readonly check: CellCheck };
  readonly priced: SideResult & { readonly check: CellCheck };
  /** priced res/s ÷ plain res/s. */
  readonly ratio: number;
  /** The unit price the priced event's holds locked in (base 5000). */
  readonly pricedUnitMinor: number | null;
}

/** One rule of each kind, each matching from the first sale on: +5 % (time), +10 % (demand), +15 % (velocity). */
async function addRules(stack: BenchStack, catalog: CatalogRows): Promise<void> {
  await stack.admin.query(
    `INSERT INTO pricing_rules (event_id, name, kind, threshold, adjustment_bps, window_seconds) VALUES
       ($1, 'Within 60 days', 'time', 5184000, 500, NULL),
       ($1, 'Any demand', 'demand', 0, 1000, NULL),
       ($1, 'Any pace', 'velocity', 0, 1500, 60)`,
    [catalog.eventId],
  );
  await stack.service.inventory.service.syncCatalog(catalog.eventId);
}

export async function pricedFlashSaleCell(stack: BenchStack, child: LoadChild, callers: number, o: ScenarioOptions): Promise<PricedFlashCell> {
  const plainCat = await createCatalog(stack.admin, `bench flash plain c${callers}`, o.capacity);
  const pricedCat = await createCatalog(stack.admin, `bench flash priced c${callers}`, o.capacity);
  await addRules(stack, pricedCat);
  const names = { plain: `plain${callers}`, priced: `priced${callers}` };
  try {
    await child.setup([
      grpcReserveSide(stack, names.plain, [plainCat], o.holdSeconds),
      grpcReserveSide(stack, names.priced, [pricedCat], o.holdSeconds),
    ]);
    const r = await runInterleaved(child, [names.plain, names.priced], { ...o, callers });
    const plain = r.get(names.plain) as SideResult;
    const priced = r.get(names.priced) as SideResult;
    const { rows } = await stack.admin.query<{ unit: string | null }>(
      `SELECT (items->0->>'unit_price_minor') AS unit FROM reservations WHERE event_id = $1 LIMIT 1`,
      [pricedCat.eventId],
    );
    return {
      callers,
      plain: { ...plain, check: await checkActor(stack.service.inventory.service, stack.admin, plainCat, plain.load) },
      priced: { ...priced, check: await checkActor(stack.service.inventory.service, stack.admin, pricedCat, priced.load) },
      ratio: priced.load.reservationsPerSecond / plain.load.reservationsPerSecond,
      pricedUnitMinor: rows[0]?.unit == null ? null : Number(rows[0].unit),
    };
  } finally {
    await stack.service.inventory.registry.passivate(plainCat.eventId);
    await stack.service.inventory.registry.passivate(pricedCat.eventId);
  }
}
