/** The event detail document served by GET /events/:id: event, venue and ticket types. */
import type { Queryable } from '../db/pool.js';
import { eventView, ticketTypeView, venueView, type eventDetailJson } from './views.js';
import type { z } from 'zod';
import { getEvent } from '../catalog/events.js';
import { listEventTicketTypes } from '../catalog/ticketTypes.js';
import { getVenue } from '../catalog/venues.js';

export type EventDetailJson = z.infer<typeof eventDetailJson>;

export async function loadEventDetail(db: Queryable, id: string): Promise<EventDetailJson> {
  const event = await getEvent(db, id);
  const [venue, types] = await Promise.all([
    event.venueId ? getVenue(db, event.venueId) : Promise.resolve(null),
    listEventTicketTypes(db, id),
  ]);
  return {
    ...eventView(event),
    venue: venue ? venueView(venue) : null,
    ticket_types: types.map((t) => ticketTypeView(t)),
  };
}
