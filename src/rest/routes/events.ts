import { z } from 'zod';
import { limitSchema } from '../../catalog/cursor.js';
import {
  createEvent,
  listCategories,
  listEvents,
  listFeatured,
  updateEvent,
} from '../../catalog/events.js';
import { DELETED_WITH_SALES, markCancelled, removeEvent } from '../../catalog/eventCancel.js';
import { checkCapacityChange } from '../../catalog/capacity.js';
import { withTransaction } from '../../db/pool.js';
import { latField, lonField, nearPlace, radiusField, requireTextOrPlace, searchTextField } from '../../search/queryFields.js';
import type { Principal } from '../../auth/verifier.js';
import { readableEventDetail } from '../eventDetail.js';
import type { JsonBody } from '../jsonBody.js';
import type { ReadModels } from '../readModels.js';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';
import { cursor, freeText, httpUrl, idParams, isoDate, queryBool, text, uuid } from '../schemas.js';
import { eventDetailJson, eventJson, eventView, pageOf } from '../views.js';

const listQuery = z.object({
  category: text(100).optional(),
  city: text(100).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  featured: queryBool.optional(),
  q: text(200).optional(),
  include_past: queryBool.optional(),
  limit: limitSchema,
  cursor: cursor.optional(),
});

const eventFields = {
  title: text(255),
  description: freeText(20_000).nullable().optional(),
  category: text(100),
  venue_id: uuid.nullable().optional(),
  start_date: isoDate,
  end_date: isoDate,
  status: z.enum(['draft', 'active']).optional(),
  featured: z.boolean().optional(),
  image_url: httpUrl(500).nullable().optional(),
  max_capacity: z.number().int().min(0).max(10_000_000).nullable().optional(),
};

const endAfterStart = (e: { start_date?: string; end_date?: string }) =>
  !e.start_date || !e.end_date || Date.parse(e.end_date) >= Date.parse(e.start_date);
const endMsg = { message: 'end_date must not be before start_date', path: ['end_date'] };

const createBody = z.strictObject(eventFields).refine(endAfterStart, endMsg);
const updateBody = z
  .strictObject({ ...eventFields, status: z.enum(['draft', 'active', 'completed']).optional() })
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'no fields to update' })
  .refine(endAfterStart, endMsg);

const cancelBody = z.strictObject({ reason: text(500) });

const searchJson = z.object({
  items: z.array(eventJson),
  total: z.number().int(),
  next_cursor: z.string().nullable(),
  suggestions: z.array(z.string()),
  facets: z.object({
    category: z.array(z.object({ value: z.string(), count: z.number().int() })),
    city: z.array(z.object({ value: z.string(), count: z.number().int() })),
  }),
  meta: z.object({ degraded: z.boolean() }),
});

/** A number in the query string (its own schema then bounds it). */
const queryNumber = <T extends z.ZodType<number>>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(v) ? Number(v) : v), schema);

const searchQuery = z.object({
  q: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), searchTextField).optional(),
  category: text(100).optional(),
  city: text(100).optional(),
  lat: queryNumber(latField).optional(),
  lon: queryNumber(lonField).optional(),
  radius_km: queryNumber(radiusField).optional(),
  include_past: queryBool.optional(),
  limit: limitSchema,
  cursor: cursor.optional(),
});

export function eventRoutes(deps: RestDeps, reads: ReadModels): RouteSpec[] {
  const { pool, caches, inventory, search } = deps;

  /** The event's status is a catalog fact the inventory actor decides with (a cancelled event sells nothing). */
  async function syncInventory(eventId: string): Promise<void> {
    await inventory.syncCatalog(eventId).catch((err: unknown) => deps.log.warn({ err, eventId }, 'inventory catalog sync failed'));
    reads.live().invalidate(eventId); // this pod's next read sees what the actor just projected
  }

  /**
   * The catalog says cancelled (final, committed first); then the actor releases every hold
   * and voids every ticket. Only once it has is the cancel acknowledged: a failure here is
   * the caller's to retry (idempotent), and an actor that loads the event applies it anyway.
   */
  async function cancelInventory(eventId: string, reason: string, authorization: string | undefined): Promise<void> {
    await caches.eventChanged(eventId);
    // Forwarded to the owning pod with the admin's token (the owner checks it again).
    await inventory.as({ authorization }).cancelEvent(eventId, reason);
    reads.live().invalidate(eventId);
  }

  /** Cached detail with the live availability (in-process, fed over pub/sub) laid over its ticket types. */
  async function eventDetail(eventId: string, isAdmin: () => Promise<boolean>): Promise<JsonBody> {
    const detail = await readableEventDetail(pool, caches, eventId, isAdmin);
    const live = reads.live();
    const snapshot = live.peek(eventId) ?? (await live.get(eventId).catch(() => undefined));
    return reads.detailBody(detail, snapshot);
  }
  return [
    route({
      method: 'get',
      path: '/events',
      summary: 'List active events that have not ended (include_past=true: ended ones too; filters, cursor pagination by start date)',
      tag: 'events',
      auth: 'public',
      query: listQuery,
      responses: { 200: { description: 'A page of events', schema: pageOf(eventJson) } },
      handler: async ({ query }) => {
        const { include_past, ...filter } = query;
        const page = await listEvents(pool, { ...filter, includePast: include_past });
        return { body: { items: page.items.map(eventView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'get',
      path: '/events/search',
      summary: 'Full-text search with suggestions and facets, optionally near a place (lat, lon, radius_km; nearest first without q)',
      tag: 'events',
      auth: 'public',
      query: searchQuery,
      responses: { 200: { description: 'Matches, suggestions and facet counts; meta.degraded when answered from the fallback', schema: searchJson } },
      handler: async ({ query }) => {
        const { q, lat, lon, radius_km, include_past, ...rest } = query;
        const near = nearPlace(lat, lon, radius_km);
        requireTextOrPlace(q, near);
        const { result, degraded } = await search.search({ ...rest, q, near, includePast: include_past });
        return { body: { ...result, items: result.items.map(eventView), meta: { degraded } } };
      },
    }),
    route({
      method: 'get',
      path: '/events/categories',
      summary: 'Categories of active events with counts',
      tag: 'events',
      auth: 'public',
      responses: {
        200: {
          description: 'Categories',
          schema: z.object({ items: z.array(z.object({ name: z.string(), event_count: z.number().int() })) }),
        },
      },
      handler: async () => ({
        body: { items: (await listCategories(pool)).map((c) => ({ name: c.name, event_count: c.eventCount })) },
      }),
    }),
    route({
      method: 'get',
      path: '/events/featured',
      summary: 'Featured upcoming events',
      tag: 'events',
      auth: 'public',
      query: z.object({ limit: limitSchema, include_past: queryBool.optional() }),
      responses: { 200: { description: 'Featured events', schema: z.object({ items: z.array(eventJson) }) } },
      handler: async ({ query }) => ({ body: { items: (await listFeatured(pool, query.limit, query.include_past)).map(eventView) } }),
    }),
    route({
      method: 'get',
      path: '/events/:id',
      summary: 'Event detail with venue and ticket types (cached); drafts and cancelled events for admins only',
      tag: 'events',
      auth: 'public',
      params: idParams,
      responses: { 200: { description: 'The event', schema: eventDetailJson } },
      handler: async ({ params, isAdmin }) => ({ body: await eventDetail(params.id, isAdmin) }),
    }),
    route({
      method: 'post',
      path: '/events',
      summary: 'Create an event',
      tag: 'events',
      auth: 'admin',
      body: createBody,
      responses: { 201: { description: 'Created', schema: eventJson } },
      handler: async ({ body, ctx }) => {
        const principal = ctx.state.principal as Principal;
        const event = await createEvent(pool, body, principal.subject);
        await caches.eventChanged(event.id);
        return { status: 201, body: eventView(event), headers: { Location: `/events/${event.id}` } };
      },
    }),
    route({
      method: 'put',
      path: '/events/:id',
      summary: "Update an event (partial); a max_capacity or venue that its ticket types would exceed is refused (409)",
      tag: 'events',
      auth: 'admin',
      params: idParams,
      body: updateBody,
      responses: { 200: { description: 'Updated', schema: eventJson } },
      handler: async ({ params, body, authorization }) => {
        const event = await inventory.oneAtATime(params.id, () =>
          withTransaction(pool, async (c) => {
            if (body.max_capacity !== undefined || body.venue_id !== undefined) {
              await checkCapacityChange(c, inventory.as({ authorization }), params.id, undefined, { maxCapacity: body.max_capacity, venueId: body.venue_id });
            }
            return updateEvent(c, params.id, body);
          }),
        );
        await caches.eventChanged(params.id);
        await syncInventory(params.id);
        return { body: eventView(event) };
      },
    }),
    route({
      method: 'delete',
      path: '/events/:id',
      summary: 'Delete an event; one with sales is cancelled instead and nothing is erased',
      tag: 'events',
      auth: 'admin',
      params: idParams,
      responses: {
        200: { description: 'Cancelled (the event had sales)', schema: eventJson },
        204: { description: 'Deleted (no sales)' },
      },
      handler: async ({ params, authorization }) => {
        const outcome = await withTransaction(pool, (client) => removeEvent(client, params.id));
        if (outcome.kind === 'deleted') {
          await caches.eventChanged(params.id);
          return { status: 204 };
        }
        await cancelInventory(params.id, outcome.event.cancelReason ?? DELETED_WITH_SALES, authorization);
        return { status: 200, body: eventView(outcome.event) };
      },
    }),
    route({
      method: 'post',
      path: '/events/:id/cancel',
      summary: 'Cancel an event (final): open holds released, tickets void, no more sales or check-ins',
      tag: 'events',
      auth: 'admin',
      params: idParams,
      body: cancelBody,
      responses: { 200: { description: 'Cancelled (again: the first cancellation stands)', schema: eventJson } },
      handler: async ({ params, body, authorization }) => {
        const event = await markCancelled(pool, params.id, body.reason);
        await cancelInventory(params.id, event.cancelReason ?? body.reason, authorization);
        return { body: eventView(event) };
      },
    }),
  ];
}
