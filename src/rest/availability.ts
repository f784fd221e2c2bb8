/**
 * Availability from the `ticket_types` counters in Postgres: the fallback while the Redis
 * projection is unreachable. The counters lag the inventory actor by up to
 * INVENTORY_PROJECTION_INTERVAL_MS; `held` is what is neither sold nor available.
 */
import type { Queryable } from '../db/pool.js';
import type { AvailabilityJson } from '../inventory/availabilityView.js';
import { money } from '../catalog/money.js';
import { listEventTicketTypes, saleStatus } from '../catalog/ticketTypes.js';
import { requireEvent } from '../catalog/events.js';

export async function loadAvailability(db: Queryable, eventId: string, now = new Date()): Promise<AvailabilityJson> {
  await requireEvent(db, eventId);
  const types = await listEventTicketTypes(db, eventId);
  return {
    event_id: eventId,
    version: -1,
    event_locked: false,
    ticket_types: types.map((t) => ({
      ticket_type_id: t.id,
      name: t.name,
      available: t.available,
      capacity: t.quantity,
      sold: t.sold,
      held: Math.max(0, t.quantity - t.available - t.sold),
      locked: t.status === 'locked',
      // The base price: the dynamic price lives in the actor's projection, unreachable here.
      price: money(t.priceMinor, t.currency),
      price_valid_until: null,
      status: saleStatus(t, now),
    })),
  };
}
