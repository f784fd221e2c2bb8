/**
 * Availability of one event, read from ticket_types. Interim read model until the
 * inventory actor's projection (issue 3) replaces it; the JSON shape stays the same.
 * `version` increases with every change (the newest updated_at, in ms).
 */
import type { Queryable } from '../db/pool.js';
import type { AvailabilityJson } from './views.js';
import { money } from '../catalog/money.js';
import { listEventTicketTypes, saleStatus } from '../catalog/ticketTypes.js';
import { requireEvent } from '../catalog/events.js';

export async function loadAvailability(db: Queryable, eventId: string, now = new Date()): Promise<AvailabilityJson> {
  await requireEvent(db, eventId);
  const types = await listEventTicketTypes(db, eventId);
  const version = types.reduce((v, t) => Math.max(v, t.updatedAt.getTime()), 0);
  return {
    event_id: eventId,
    version,
    as_of: now.toISOString(),
    ticket_types: types.map((t) => ({
      ticket_type_id: t.id,
      name: t.name,
      available: t.available,
      capacity: t.quantity,
      price: money(t.priceMinor, t.currency),
      status: saleStatus(t, now),
    })),
  };
}
