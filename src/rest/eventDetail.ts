/**
 * The event detail document served by GET /events/:id: event, venue and ticket types
 * from the catalog (cached), with the live availability laid over the ticket types.
 * The merged body is serialized once per (cached detail, availability snapshot) pair.
 */
import type { Queryable } from '../db/pool.js';
import { eventView, ticketTypeView, venueView, type eventDetailJson } from './views.js';
import type { z } from 'zod';
import { getEvent, getEventStatus } from '../catalog/events.js';
import { listEventTicketTypes } from '../catalog/ticketTypes.js';
import { getVenue } from '../catalog/venues.js';
import type { AvailabilitySnapshot } from '../cache/liveAvailability.js';
import { JsonBody } from './jsonBody.js';
import type { Caches } from '../cache/caches.js';
import { isPublicStatus, requireReadable } from '../catalog/visibility.js';

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
    // The bounds in force with dynamic pricing; without it the body fixes them at serve time (withLiveAvailability).
    ticket_types: types.map((t) => ticketTypeView(t, true)),
  };
}

/** The event detail through the event cache (in process, then Redis, then Postgres): a hit costs no I/O. */
export async function cachedEventDetail(db: Queryable, caches: Pick<Caches, 'event'>, id: string): Promise<EventDetailJson> {
  return (await caches.event.getOrLoad(id, () => loadEventDetail(db, id))) as EventDetailJson;
}

/**
 * NOT_FOUND unless the caller may read the event: drafts and cancelled events (and what
 * belongs to them: availability, levels, prices) are for admins only. The status comes from
 * its own cache (`caches.visibility`), which sales do not drop, so the check costs a read no
 * Postgres statement while the event sells. `isAdmin` is asked only for such an event, so
 * public reads never verify a token.
 */
export async function requireReadableEvent(
  db: Queryable,
  caches: Pick<Caches, 'visibility'>,
  id: string,
  isAdmin: () => Promise<boolean>,
): Promise<void> {
  const { status } = (await caches.visibility.getOrLoad(id, async () => ({ status: await getEventStatus(db, id) }))) as { status: string };
  if (!isPublicStatus(status)) requireReadable({ id, status }, await isAdmin());
}

/** The event's cached detail if the caller may read it, else NOT_FOUND (as above). */
export async function readableEventDetail(
  db: Queryable,
  caches: Pick<Caches, 'event'>,
  id: string,
  isAdmin: () => Promise<boolean>,
): Promise<EventDetailJson> {
  const detail = await cachedEventDetail(db, caches, id);
  if (!isPublicStatus(detail.status)) requireReadable(detail, await isAdmin());
  return detail;
}

/**
 * The catalog detail with counters and sale status taken from the live availability; without
 * dynamic pricing (`dynamicPricing` false) each price range is the base price itself.
 */
export function withLiveAvailability(detail: EventDetailJson, live: AvailabilitySnapshot | undefined, dynamicPricing = true): EventDetailJson {
  if (!live && dynamicPricing) return detail;
  const byId = new Map(live?.value.ticket_types.map((t) => [t.ticket_type_id, t]));
  return {
    ...detail,
    ticket_types: detail.ticket_types.map((type) => {
      const t = dynamicPricing ? type : { ...type, price_range: { floor: type.price, cap: type.price } };
      const l = byId.get(t.id);
      return l ? { ...t, quantity: l.capacity, available: l.available, sold: l.sold, sale_status: l.status } : t;
    }),
  };
}

/**
 * Response bodies keyed by the cached detail object (the in-process cache hands out the
 * same object until it is refreshed or dropped) and the snapshot they were built with.
 */
export function createEventDetailBodies(dynamicPricing: () => boolean): (detail: EventDetailJson, live: AvailabilitySnapshot | undefined) => JsonBody {
  const bodies = new WeakMap<EventDetailJson, { live: AvailabilitySnapshot | undefined; body: JsonBody }>();
  return (detail, live) => {
    const known = bodies.get(detail);
    if (known && known.live === live) return known.body;
    const body = JsonBody.of(withLiveAvailability(detail, live, dynamicPricing()));
    bodies.set(detail, { live, body });
    return body;
  };
}
