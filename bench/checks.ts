/**
 * End-of-cell correctness: never oversold, and every acknowledged reservation (and only
 * those) is both counted and durable in Postgres. Any violation fails the run.
 */
import type pg from 'pg';
import type { InventoryService } from '../src/inventory/inventoryService.js';
import type { RowLockSeller } from './rowLock.js';
import type { CatalogRows } from './stack.js';
import type { LoadResult } from './workload.js';

export interface CellCheck {
  readonly violations: readonly string[];
  readonly capacity: number;
  /** Seats the seller says are taken (actor: sold + held; row-lock: capacity − counter). */
  readonly taken: number;
  /** Reservation rows in Postgres for the event, and their seats. */
  readonly durableReservations: number;
  readonly durableQuantity: number;
  /** Actor only: Postgres transactions that wrote its journal (the group commits). */
  readonly commits: number | null;
}

async function durable(db: pg.Pool, eventId: string): Promise<{ rows: number; quantity: number }> {
  const { rows } = await db.query<{ n: number; q: number }>(
    `SELECT count(*)::int AS n,
            coalesce(sum((SELECT sum((i->>'quantity')::int) FROM jsonb_array_elements(items) i)), 0)::int AS q
     FROM reservations WHERE event_id = $1 AND status = 'HELD'`,
    [eventId],
  );
  return { rows: rows[0]?.n ?? 0, quantity: rows[0]?.q ?? 0 };
}

function compare(name: string, catalog: CatalogRows, load: LoadResult, taken: number, d: { rows: number; quantity: number }): string[] {
  const v: string[] = [];
  if (taken > catalog.capacity) v.push(`${name}: oversold: ${taken} taken of ${catalog.capacity}`);
  if (taken !== load.ackedQuantity) v.push(`${name}: ${taken} seats taken but ${load.ackedQuantity} acknowledged`);
  if (d.rows !== load.ackedCalls) v.push(`${name}: ${d.rows} reservation rows but ${load.ackedCalls} reserves acknowledged`);
  if (d.quantity !== load.ackedQuantity) v.push(`${name}: ${d.quantity} seats in reservation rows but ${load.ackedQuantity} acknowledged`);
  return v;
}

export async function checkActor(
  inventory: InventoryService,
  db: pg.Pool,
  catalog: CatalogRows,
  load: LoadResult,
): Promise<CellCheck> {
  const { levels } = await inventory.levels(catalog.eventId);
  const level = levels.find((l) => l.ticketTypeId === catalog.ticketTypeId);
  if (!level) {
    return { violations: [`actor: no level for ticket type ${catalog.ticketTypeId}`], capacity: catalog.capacity, taken: Number.NaN, durableReservations: 0, durableQuantity: 0, commits: null };
  }
  const taken = level.sold + level.held;
  const violations = level.capacity === catalog.capacity ? [] : [`actor: capacity ${level.capacity}, catalog says ${catalog.capacity}`];
  const d = await durable(db, catalog.eventId);
  // Rows inserted by one transaction share its xmin: distinct xmins = group commits.
  const { rows } = await db.query<{ commits: number }>(
    `SELECT count(DISTINCT xmin::text)::int AS commits FROM inventory_journal WHERE event_id = $1 AND kind = 'HoldPlaced'`,
    [catalog.eventId],
  );
  violations.push(...compare('actor', catalog, load, taken, d));
  return { violations, capacity: catalog.capacity, taken, durableReservations: d.rows, durableQuantity: d.quantity, commits: rows[0]?.commits ?? null };
}

export async function checkRowLock(seller: RowLockSeller, db: pg.Pool, catalog: CatalogRows, load: LoadResult): Promise<CellCheck> {
  const available = await seller.available();
  const taken = catalog.capacity - available;
  const violations: string[] = available < 0 ? [`row-lock: counter below zero (${available})`] : [];
  const d = await durable(db, catalog.eventId);
  violations.push(...compare('row-lock', catalog, load, taken, d));
  return { violations, capacity: catalog.capacity, taken, durableReservations: d.rows, durableQuantity: d.quantity, commits: null };
}
