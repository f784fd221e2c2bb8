/**
 * ticket.TicketService: catalog reads, the reservation lifecycle (./reservations.ts: unary
 * and over StreamInventory, ./inventoryStream.ts), the availability stream
 * (./watchAvailability.ts) and the shard map for clients that route calls themselves.
 */
import { countEvents, getEvent, listCategories, listEvents, listFeatured } from '../../catalog/events.js';
import { listEventTicketTypes } from '../../catalog/ticketTypes.js';
import { getVenue } from '../../catalog/venues.js';
import { latField, lonField, nearPlace, radiusField, requireTextOrPlace, searchTextField } from '../../search/queryFields.js';
import { requireReadable } from '../../catalog/visibility.js';
import { unary } from '../call.js';
import { availableTypes, eventMessage, money, reservationWithTickets, shardMapMessage, ticketTypeMessage, venueMessage } from '../convert.js';
import type { TicketServiceHandlers } from '../generated/ticket/TicketService.js';
import type { AvailabilityJson } from '../../inventory/availabilityView.js';
import type { HandlerDeps } from './deps.js';
import { check, isAdmin, optionalText, optionalTimestamp, pageSize, requiredId } from './validate.js';
import { watchAvailability } from './watchAvailability.js';
import { streamInventory } from './inventoryStream.js';
import { reservationHandlers } from './reservations.js';

export function ticketServiceHandlers(deps: HandlerDeps): TicketServiceHandlers {
  const { pool, config, inventory, requireReadableEvent, search, live } = deps;
  const reservations = reservationHandlers(deps);
  /** Public availability: this pod's live copy (no round trip while it is fresh), else the projection. */
  const currentAvailability = async (eventId: string): Promise<AvailabilityJson> => (live ? (await live.get(eventId)).value : inventory.availability(eventId));
  return {
    GetEvents: unary('public', async (req) => {
      const filter = {
        category: optionalText(req.category, 'category', 100),
        city: optionalText(req.city, 'city', 100),
        from: optionalTimestamp(req.starts_after, 'starts_after')?.toISOString(),
        to: optionalTimestamp(req.starts_before, 'starts_before')?.toISOString(),
        featured: req.featured_only ? true : undefined,
        includePast: req.include_past,
      };
      const [page, total] = await Promise.all([
        listEvents(pool, { ...filter, limit: pageSize(req.page_size, 20, 100), cursor: optionalText(req.page_token, 'page_token', 1000) }),
        countEvents(pool, filter),
      ]);
      return { events: page.items.map((e) => eventMessage(e)), next_page_token: page.next_cursor ?? '', total };
    }),

    GetEventById: unary('public', async (req, ctx) => {
      const event = await getEvent(pool, requiredId(req.event_id, 'event_id'));
      requireReadable(event, isAdmin(ctx));
      const [venue, types, live] = await Promise.all([
        event.venueId ? getVenue(pool, event.venueId) : Promise.resolve(null),
        listEventTicketTypes(pool, event.id),
        currentAvailability(event.id).catch(() => undefined),
      ]);
      const byId = new Map(live?.ticket_types.map((t) => [t.ticket_type_id, t]));
      const ticket_types = types.map((t) => {
        const l = byId.get(t.id);
        const message = ticketTypeMessage(t, config.pricing.dynamicEnabled);
        return l
          ? { ...message, quantity: l.capacity, available: l.available, sold: l.sold, status: l.status, current_price: money(l.price.amount_minor, l.price.currency) }
          : message;
      });
      return { event: eventMessage(event, { venue: venue ? venueMessage(venue) : null, ticket_types }) };
    }),

    GetAvailableTickets: unary('public', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      await requireReadableEvent(eventId, isAdmin(ctx));
      const a = await currentAvailability(eventId);
      return { event_id: a.event_id, ticket_types: availableTypes(a), version: a.version };
    }),

    SearchEvents: unary('public', async (req) => {
      const q = req.query.trim() === '' ? undefined : check(searchTextField, req.query.trim(), 'query');
      // radius_km = 0: no place (proto3 has no "unset" for numbers).
      const near =
        req.radius_km === 0 && req.lat === 0 && req.lon === 0
          ? undefined
          : nearPlace(check(latField, req.lat, 'lat'), check(lonField, req.lon, 'lon'), check(radiusField, req.radius_km, 'radius_km'));
      requireTextOrPlace(q, near, 'query');
      const { result, degraded } = await search.search({
        q,
        near,
        category: optionalText(req.category, 'category', 100),
        city: optionalText(req.city, 'city', 100),
        limit: pageSize(req.page_size, 20, config.search.maxResults),
        cursor: optionalText(req.page_token, 'page_token', 1000),
        includePast: req.include_past,
      });
      return {
        events: result.items.map((e) => eventMessage(e)),
        suggestions: result.suggestions,
        total: result.total,
        next_page_token: result.next_cursor ?? '',
        degraded,
      };
    }),

    GetEventCategories: unary('public', async () => ({
      categories: (await listCategories(pool)).map((c) => ({ name: c.name, event_count: c.eventCount })),
    })),

    GetFeaturedEvents: unary('public', async (req) => ({
      events: (await listFeatured(pool, pageSize(req.limit, 10, 100, 'limit'), req.include_past)).map((e) => eventMessage(e)),
    })),

    ReserveTickets: unary('write', reservations.reserve),
    ReleaseTickets: unary('write', reservations.release),
    ConfirmReservation: unary('write', reservations.confirm),

    // Ticket codes, customer id and payment reference: personal data, for service/admin tokens only.
    GetReservation: unary('write', async (req, ctx) =>
      reservationWithTickets(await inventory.as(ctx.caller).getReservation(requiredId(req.event_id, 'event_id'), requiredId(req.reservation_id, 'reservation_id'))),
    ),

    WatchAvailability: watchAvailability(deps),
    StreamInventory: streamInventory(deps, reservations),
    GetShardMap: unary('public', async () => shardMapMessage(deps.shardMap())),
  };
}
