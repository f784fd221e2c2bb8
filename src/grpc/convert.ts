/**
 * Domain types → protobuf messages (and Timestamps back), at the handler edge. Every
 * handler builds its responses with these, so the wire shape is defined in one place.
 */
import type { CatalogEvent } from '../catalog/events.js';
import type { TicketType as CatalogTicketType } from '../catalog/ticketTypes.js';
import { saleStatus } from '../catalog/ticketTypes.js';
import { rangeOf } from '../pricing/engine.js';
import type { Venue as CatalogVenue } from '../catalog/venues.js';
import type { LevelView } from '../../actors/inventory/model.js';
import type { AvailabilityJson } from '../inventory/availabilityView.js';
import type { IssuedTicket, ReservationResult } from '../inventory/inventoryService.js';
import type { Timestamp } from './generated/google/protobuf/Timestamp.js';
import type { AvailableTicketType } from './generated/ticket/AvailableTicketType.js';
import type { Event } from './generated/ticket/Event.js';
import type { InventoryLevel } from './generated/ticket/InventoryLevel.js';
import type { Money } from './generated/ticket/Money.js';
import type { Reservation } from './generated/ticket/Reservation.js';
import type { Ticket } from './generated/ticket/Ticket.js';
import type { TicketType } from './generated/ticket/TicketType.js';
import type { Venue } from './generated/ticket/Venue.js';
import type { GetShardMapResponse } from './generated/ticket/GetShardMapResponse.js';
import type { ShardOwnerEntry } from '../shards/shardTypes.js';
import { SHARD_HASH } from '../shards/shardOf.js';

export function timestamp(value: Date | number | null | undefined): Timestamp | null {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'number' ? value : value.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}


export const money = (amountMinor: number, currency: string): Money => ({ currency, amount_minor: amountMinor });

export function venueMessage(v: CatalogVenue): Venue {
  return {
    id: v.id,
    name: v.name,
    address: v.address,
    city: v.city,
    state: v.state ?? '',
    country: v.country,
    postal_code: v.postalCode ?? '',
    latitude: v.latitude ?? 0,
    longitude: v.longitude ?? 0,
    capacity: v.capacity ?? 0,
    amenities: [...v.amenities],
  };
}

/** `dynamicPricing`: DYNAMIC_PRICING_ENABLED (without it the range is the base price itself). */
export function ticketTypeMessage(t: CatalogTicketType, dynamicPricing: boolean, now = new Date()): TicketType {
  return {
    id: t.id,
    event_id: t.eventId,
    name: t.name,
    description: t.description ?? '',
    price: money(t.priceMinor, t.currency),
    quantity: t.quantity,
    available: t.available,
    sold: t.sold,
    max_per_purchase: t.maxPerPurchase,
    min_per_purchase: t.minPerPurchase,
    valid_from: timestamp(t.validFrom),
    valid_until: timestamp(t.validUntil),
    status: saleStatus(t, now),
    gates: [...t.gates],
    ...priceRangeMessage(t, dynamicPricing),
    opens_after_sold_out: t.opensAfterSoldOut ?? '',
    current_price: money(t.priceMinor, t.currency),
  };
}

/** How far the price can move: the bounds in force. */
function priceRangeMessage(t: CatalogTicketType, dynamicPricing: boolean): Pick<TicketType, 'price_floor' | 'price_cap'> {
  const { floorMinor, capMinor } = rangeOf(dynamicPricing, t.priceMinor, t.priceFloorMinor, t.priceCapMinor);
  return { price_floor: money(floorMinor, t.currency), price_cap: money(capMinor, t.currency) };
}

export function eventMessage(e: CatalogEvent, extra: Pick<Event, 'venue' | 'ticket_types'> = {}): Event {
  return {
    id: e.id,
    title: e.title,
    description: e.description ?? '',
    category: e.category,
    venue_id: e.venueId ?? '',
    start_date: timestamp(e.startDate),
    end_date: timestamp(e.endDate),
    status: e.status,
    featured: e.featured,
    image_url: e.imageUrl ?? '',
    max_capacity: e.maxCapacity ?? 0,
    ...extra,
  };
}

export function availableTypes(a: AvailabilityJson): AvailableTicketType[] {
  return a.ticket_types.map((t) => ({
    ticket_type_id: t.ticket_type_id,
    name: t.name,
    available: t.available,
    capacity: t.capacity,
    price: money(t.price.amount_minor, t.price.currency),
    status: t.status,
    price_valid_until: t.price_valid_until === null ? null : timestamp(new Date(t.price_valid_until)),
  }));
}

export function levelMessage(l: LevelView): InventoryLevel {
  return {
    ticket_type_id: l.ticketTypeId,
    capacity: l.capacity,
    sold: l.sold,
    held: l.held,
    available: l.available,
    locked: l.locked,
  };
}

export function ticketMessage(t: IssuedTicket, currency: string): Ticket {
  return {
    id: t.id,
    event_id: t.eventId,
    ticket_type_id: t.ticketTypeId,
    reservation_id: t.reservationId,
    code: t.code,
    status: t.status,
    price: money(t.priceMinor, currency),
    checked_in_at: timestamp(t.checkedInAt),
    checked_in_gate: t.gate ?? '',
  };
}

export function reservationMessage(result: ReservationResult): Reservation {
  const r = result.reservation;
  return {
    id: r.id,
    event_id: result.eventId,
    status: r.status,
    items: r.items.map((i) => ({ ticket_type_id: i.ticketTypeId, quantity: i.quantity, unit_price: money(i.unitPriceMinor, r.currency) })),
    total: money(r.totalMinor, r.currency),
    discount: money(r.discountMinor, r.currency),
    subtotal: money(r.subtotalMinor, r.currency),
    expires_at: timestamp(r.expiresAt),
    promo_code: r.promoCode ?? '',
    customer_id: r.customerId ?? '',
    payment_reference: r.paymentReference ?? '',
  };
}

export function reservationWithTickets(result: ReservationResult): { reservation: Reservation; tickets: Ticket[] } {
  return {
    reservation: reservationMessage(result),
    tickets: result.tickets.map((t) => ticketMessage(t, result.reservation.currency)),
  };
}

export function shardMapMessage(map: { readonly shardCount: number; readonly shards: readonly ShardOwnerEntry[] }): GetShardMapResponse {
  return {
    shard_count: map.shardCount,
    hash: SHARD_HASH,
    shards: map.shards.map((s) => ({ shard: s.shard, pod: s.pod ?? '', grpc_address: s.grpc ?? '' })),
  };
}
