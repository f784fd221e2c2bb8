/**
 * The availability read model (REST `GET /events/:id/tickets`, SSE, Redis projection).
 * The price of a ticket type is formatted once per catalog fact (a WeakMap keyed by the
 * TicketTypeInfo object, replaced whenever the catalog is reloaded): Intl formatting per
 * projection was a visible share of a turn.
 */
import type { CatalogInfo, InventoryState, TicketTypeInfo, Level } from '../../actors/inventory/model.js';
import { money, type MoneyJson } from '../catalog/money.js';

export type SaleStatus = 'on_sale' | 'sold_out' | 'locked' | 'not_yet_on_sale' | 'sale_ended';

export interface AvailabilityTypeJson {
  readonly ticket_type_id: string;
  readonly name: string;
  readonly available: number;
  readonly capacity: number;
  readonly sold: number;
  readonly held: number;
  readonly locked: boolean;
  readonly price: MoneyJson;
  readonly status: SaleStatus;
}

export interface AvailabilityJson {
  readonly event_id: string;
  /** Journal sequence number of the state shown: higher is newer. */
  readonly version: number;
  readonly event_locked: boolean;
  readonly ticket_types: readonly AvailabilityTypeJson[];
}

export function saleStatusOf(info: TicketTypeInfo, level: Level, eventLocked: boolean, now: number): SaleStatus {
  if (eventLocked || level.locked) return 'locked';
  if (info.validFrom !== null && now < info.validFrom) return 'not_yet_on_sale';
  if (info.validUntil !== null && now >= info.validUntil) return 'sale_ended';
  return level.capacity - level.sold - level.held > 0 ? 'on_sale' : 'sold_out';
}

const prices = new WeakMap<TicketTypeInfo, MoneyJson>();

function priceOf(info: TicketTypeInfo): MoneyJson {
  let price = prices.get(info);
  if (!price) {
    price = money(info.priceMinor, info.currency);
    prices.set(info, price);
  }
  return price;
}

export function availabilityOf(state: InventoryState, catalog: CatalogInfo, now: number): AvailabilityJson {
  const types: AvailabilityTypeJson[] = [];
  for (const info of catalog.ticketTypes) {
    const level = state.levels[info.id];
    if (!level || info.hidden) continue;
    types.push({
      ticket_type_id: info.id,
      name: info.name,
      available: Math.max(0, level.capacity - level.sold - level.held),
      capacity: level.capacity,
      sold: level.sold,
      held: level.held,
      locked: level.locked,
      price: priceOf(info),
      status: saleStatusOf(info, level, state.eventLocked, now),
    });
  }
  return { event_id: state.eventId, version: state.seq, event_locked: state.eventLocked, ticket_types: types };
}
