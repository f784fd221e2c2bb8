/**
 * The commands a turn runs before its batch, decided from the state and the catalog (pure):
 *  - the catalog's cancellation, final and written first: an actor that learns of it
 *    (activation, a sync) applies it before deciding anything, so it is never lost;
 *  - ticket types the actor has never seen, registered before anything else decides;
 *  - holds already due (their timer may not have fired yet, e.g. right after a recovery,
 *    or its delivery failed while the shard moved): nothing is decided or read against a
 *    hold that has run out;
 *  - a repricing when one is due.
 */
import type { CatalogInfo, InventoryCommand, InventoryState } from './model.js';
import type { PricingPort } from './pricingPort.js';

export function turnPrefix(
  state: InventoryState,
  catalog: CatalogInfo,
  pending: { readonly dueHolds: readonly string[] | undefined; readonly reprice: boolean },
): InventoryCommand[] {
  const prefix: InventoryCommand[] = [];
  if (catalog.eventStatus === 'cancelled' && !state.cancelled) {
    prefix.push({ type: 'CancelEvent', reason: catalog.cancelReason ?? 'the event was cancelled' });
  }
  if (catalog.ticketTypes.some((t) => !state.levels[t.id])) prefix.push({ type: 'SyncCatalog' });
  if (pending.dueHolds) prefix.push({ type: 'Expire', reservationIds: pending.dueHolds });
  if (pending.reprice) prefix.push({ type: 'Reprice' });
  return prefix;
}

/**
 * Prices are recomputed first in a turn when an interval boundary passed, the catalog was
 * just re-read (a rule or base price may have changed), or a ticket type has no price yet.
 */
export function repriceDue(state: InventoryState, catalog: CatalogInfo, pricing: PricingPort | undefined, now: number, catalogReloaded: boolean): boolean {
  if (!pricing?.enabled) return false;
  if (catalogReloaded || pricing.intervalOf(now).start > state.pricing.interval) return true;
  return catalog.ticketTypes.some((t) => !state.pricing.prices[t.id]);
}
