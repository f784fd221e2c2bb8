/** JSON shapes of REST responses (snake_case, money with display strings). */
import { z } from 'zod';
import type { CatalogEvent } from '../catalog/events.js';
import { money, moneySchema, type MoneyJson } from '../catalog/money.js';
import { rangeOf } from '../pricing/engine.js';
import { saleStatus, type TicketType } from '../catalog/ticketTypes.js';
import type { Venue } from '../catalog/venues.js';

export const venueJson = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  city: z.string(),
  state: z.string().nullable(),
  country: z.string(),
  postal_code: z.string().nullable(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  capacity: z.number().int().nullable(),
  amenities: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type VenueJson = z.infer<typeof venueJson>;

export function venueView(v: Venue): VenueJson {
  return {
    id: v.id,
    name: v.name,
    address: v.address,
    city: v.city,
    state: v.state,
    country: v.country,
    postal_code: v.postalCode,
    latitude: v.latitude,
    longitude: v.longitude,
    capacity: v.capacity,
    amenities: [...v.amenities],
    created_at: v.createdAt.toISOString(),
    updated_at: v.updatedAt.toISOString(),
  };
}

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });

export const ticketTypeJson = z.object({
  id: z.string(),
  event_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  price: moneySchema,
  quantity: z.number().int(),
  available: z.number().int(),
  sold: z.number().int(),
  max_per_purchase: z.number().int(),
  min_per_purchase: z.number().int(),
  valid_from: z.string().nullable(),
  valid_until: z.string().nullable(),
  status: z.string(),
  sale_status: z.string(),
  gates: z.array(z.string()),
  /** Configured dynamic price bounds (null = the default clamp). */
  price_floor: moneySchema.nullable(),
  price_cap: moneySchema.nullable(),
  /** The bounds in force: how far the price can move. */
  price_range: z.object({ floor: moneySchema, cap: moneySchema }),
  opens_after_sold_out: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type TicketTypeJson = z.infer<typeof ticketTypeJson>;

/** The bounds in force; without dynamic pricing (`dynamicPricing` false) the base price itself. */
export function priceRangeView(t: TicketType, dynamicPricing: boolean): { floor: MoneyJson; cap: MoneyJson } {
  const { floorMinor, capMinor } = rangeOf(dynamicPricing, t.priceMinor, t.priceFloorMinor, t.priceCapMinor);
  return { floor: money(floorMinor, t.currency), cap: money(capMinor, t.currency) };
}

export function ticketTypeView(t: TicketType, dynamicPricing: boolean, now = new Date()): TicketTypeJson {
  return {
    id: t.id,
    event_id: t.eventId,
    name: t.name,
    description: t.description,
    price: money(t.priceMinor, t.currency),
    quantity: t.quantity,
    available: t.available,
    sold: t.sold,
    max_per_purchase: t.maxPerPurchase,
    min_per_purchase: t.minPerPurchase,
    valid_from: t.validFrom?.toISOString() ?? null,
    valid_until: t.validUntil?.toISOString() ?? null,
    status: t.status,
    sale_status: saleStatus(t, now),
    gates: [...t.gates],
    price_floor: t.priceFloorMinor === null ? null : money(t.priceFloorMinor, t.currency),
    price_cap: t.priceCapMinor === null ? null : money(t.priceCapMinor, t.currency),
    price_range: priceRangeView(t, dynamicPricing),
    opens_after_sold_out: t.opensAfterSoldOut,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

export const eventJson = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  category: z.string(),
  venue_id: z.string().nullable(),
  start_date: z.string(),
  end_date: z.string(),
  status: z.string(),
  featured: z.boolean(),
  image_url: z.string().nullable(),
  max_capacity: z.number().int().nullable(),
  cancelled_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type EventJson = z.infer<typeof eventJson>;

export function eventView(e: CatalogEvent): EventJson {
  return {
    id: e.id,
    title: e.title,
    description: e.description,
    category: e.category,
    venue_id: e.venueId,
    start_date: e.startDate.toISOString(),
    end_date: e.endDate.toISOString(),
    status: e.status,
    featured: e.featured,
    image_url: e.imageUrl,
    max_capacity: e.maxCapacity,
    cancelled_at: e.cancelledAt?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

export const eventDetailJson = eventJson.extend({
  venue: venueJson.nullable(),
  ticket_types: z.array(ticketTypeJson),
});

export const availabilityJson = z.object({
  event_id: z.string(),
  version: z.number().int(),
  pricing_version: z.number().int().optional(),
  event_locked: z.boolean(),
  ticket_types: z.array(
    z.object({
      ticket_type_id: z.string(),
      name: z.string(),
      available: z.number().int(),
      capacity: z.number().int(),
      sold: z.number().int(),
      held: z.number().int(),
      locked: z.boolean(),
      price: moneySchema,
      price_valid_until: z.string().nullable(),
      status: z.string(),
    }),
  ),
});
