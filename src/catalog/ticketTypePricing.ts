/**
 * The pricing fields of a ticket type as admins enter them: its price bounds (in its own
 * currency, floor ≤ cap, restated when the currency changes) and its place in a chain of
 * release tiers (same event, no cycle).
 */
import type { Queryable } from '../db/pool.js';
import { ValidationError } from '../errors.js';

type Money = { currency: string; amount_minor: number };

export interface PricingFields {
  readonly currency: string;
  readonly floor: Money | null;
  readonly cap: Money | null;
  readonly opensAfter: string | null;
}

/**
 * Price bounds are in the ticket type's currency with floor ≤ cap; a release tier follows
 * another ticket type of the same event, never itself or (through others) itself again.
 */
export async function checkPricingFields(db: Queryable, eventId: string, id: string | null, f: PricingFields): Promise<void> {
  for (const [field, bound] of [['price_floor', f.floor], ['price_cap', f.cap]] as const) {
    if (bound && bound.currency !== f.currency) {
      throw new ValidationError(`${field} must be in the ticket type's currency (${f.currency})`, { field });
    }
  }
  if (f.floor && f.cap && f.floor.amount_minor > f.cap.amount_minor) {
    throw new ValidationError('price_floor must not exceed price_cap', { field: 'price_floor' });
  }
  if (f.opensAfter === null) return;
  if (f.opensAfter === id) throw new ValidationError('a ticket type cannot open after itself', { field: 'opens_after_sold_out' });
  // Walk the chain of predecessors: it must stay in this event and never come back to `id`.
  const { rows } = await db.query<{ id: string; event_id: string }>(
    `WITH RECURSIVE chain(id, event_id, next, depth) AS (
       SELECT id, event_id, opens_after_sold_out, 1 FROM ticket_types WHERE id = $1 AND status <> 'deleted'
       UNION ALL
       SELECT t.id, t.event_id, t.opens_after_sold_out, c.depth + 1 FROM ticket_types t JOIN chain c ON t.id = c.next
       WHERE c.depth < 100
     ) SELECT id, event_id FROM chain`,
    [f.opensAfter],
  );
  if (rows.length === 0 || rows[0]?.event_id !== eventId) {
    throw new ValidationError('opens_after_sold_out must name a ticket type of the same event', { field: 'opens_after_sold_out' });
  }
  if (id !== null && rows.some((r) => r.id === id)) {
    throw new ValidationError('release tiers must not form a cycle', { field: 'opens_after_sold_out' });
  }
}

/**
 * Stored bounds are amounts in the old currency: an update that changes the currency must
 * restate each bound that is set (or clear it with null).
 */
export function requireRestatedBounds(
  was: { readonly currency: string; readonly priceFloorMinor: number | null; readonly priceCapMinor: number | null },
  currency: string,
  given: { readonly floor: Money | null | undefined; readonly cap: Money | null | undefined },
): void {
  if (currency === was.currency) return;
  for (const [field, stored, bound] of [['price_floor', was.priceFloorMinor, given.floor], ['price_cap', was.priceCapMinor, given.cap]] as const) {
    if (stored !== null && bound === undefined) {
      throw new ValidationError(`${field} is in ${was.currency}: give it in ${currency} (or null) when the currency changes`, { field });
    }
  }
}
