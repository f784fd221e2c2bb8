/**
 * The availability read model (REST `GET /events/:id/tickets`, SSE, Redis projection).
 * The price of a ticket type is formatted once per catalog fact (a WeakMap keyed by the
 * TicketTypeInfo object, replaced whenever the catalog is reloaded): Intl formatting per
 * projection was a visible share of a turn.
 */
import type { CatalogInfo, InventoryState, TicketTypeInfo, Level } from '../../actors/inventory/model.js';
import { money, type MoneyJson } from '../catalog/money.js';
import { priceValidUntil, tierState, unitPrice } from '../../actors/inventory/decidePricing.js';
import type { PricingPort } from '../../actors/inventory/pricingPort.js';

export type SaleStatus = 'on_sale' | 'sold_out' | 'locked' | 'not_yet_on_sale' | 'sale_ended';

export interface AvailabilityTypeJson {
  readonly ticket_type_id: string;
  readonly name: string;
  readonly available: number;
  readonly capacity: number;
  readonly sold: number;
  readonly held: number;
  readonly locked: boolean;
  /** What the next hold of one ticket locks in (the dynamic price when it is on). */
  readonly price: MoneyJson;
  /** The price holds at least until then (ISO time; null = until a catalog change). */
  readonly price_valid_until: string | null;
  readonly status: SaleStatus;
}

export interface AvailabilityJson {
  readonly event_id: string;
  /** Journal sequence number of the state shown: higher is newer. */
  readonly version: number;
  /** Journal position of the last change to the event's price disclosure (prices, tiers, ticket types). */
  readonly pricing_version?: number;
  readonly event_locked: boolean;
  readonly ticket_types: readonly AvailabilityTypeJson[];
}

/** `tier`: a release tier still waiting for its predecessor, or one whose successor took over. */
export function saleStatusOf(info: TicketTypeInfo, level: Level, eventLocked: boolean, now: number, tier: 'waiting' | 'passed' | null = null): SaleStatus {
  if (eventLocked || level.locked) return 'locked';
  if (info.validFrom !== null && now < info.validFrom) return 'not_yet_on_sale';
  if (info.validUntil !== null && now >= info.validUntil) return 'sale_ended';
  if (tier === 'waiting') return 'not_yet_on_sale';
  const available = level.capacity - level.sold - level.held > 0;
  if (tier === 'passed') return available ? 'sale_ended' : 'sold_out';
  return available ? 'on_sale' : 'sold_out';
}

/** Formatted prices, per catalog fact and amount (a dynamic price changes at most once per interval). */
const prices = new WeakMap<TicketTypeInfo, MoneyJson>();

function priceOf(info: TicketTypeInfo, amountMinor: number): MoneyJson {
  let price = prices.get(info);
  if (price?.amount_minor !== amountMinor) {
    price = money(amountMinor, info.currency);
    prices.set(info, price);
  }
  return price;
}

export function availabilityOf(state: InventoryState, catalog: CatalogInfo, now: number, pricing?: PricingPort): AvailabilityJson {
  const types: AvailabilityTypeJson[] = [];
  const ctx = pricing ? { now, pricing } : { now };
  for (const info of catalog.ticketTypes) {
    const level = state.levels[info.id];
    if (!level || info.hidden) continue;
    const validUntil = priceValidUntil(info, ctx);
    types.push({
      ticket_type_id: info.id,
      name: info.name,
      available: Math.max(0, level.capacity - level.sold - level.held),
      capacity: level.capacity,
      sold: level.sold,
      held: level.held,
      locked: level.locked,
      price: priceOf(info, unitPrice(state, info, ctx)),
      price_valid_until: validUntil === null ? null : new Date(validUntil).toISOString(),
      status: saleStatusOf(info, level, state.eventLocked, now, tierState(state, info, catalog)),
    });
  }
  return { event_id: state.eventId, version: state.seq, pricing_version: state.pricing.version, event_locked: state.eventLocked, ticket_types: types };
}
