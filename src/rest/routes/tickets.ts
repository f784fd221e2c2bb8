import { z } from 'zod';
import { limitSchema } from '../../catalog/cursor.js';
import { moneyInputSchema } from '../../catalog/money.js';
import {
  createTicketType,
  deleteTicketType,
  getTicketType,
  listTicketTypes,
  updateTicketTypeFields,
  type TicketType,
} from '../../catalog/ticketTypes.js';
import { LIMITS } from '../../../actors/inventory/commandSchema.js';
import { checkCapacityChange } from '../../catalog/capacity.js';
import { withTransaction } from '../../db/pool.js';
import { AppError, NotFoundError } from '../../errors.js';
import type { LevelsResult } from '../../inventory/inventoryService.js';
import { addressKey } from '../../limits/streams.js';
import { loadAvailability } from '../availability.js';
import { sseFrames, streamAvailability } from '../availabilityStream.js';
import { requireReadableEvent } from '../eventDetail.js';
import { JsonBody } from '../jsonBody.js';
import type { ReadModels } from '../readModels.js';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';
import { cursor, freeText, idParams, isoDate, text, uuid } from '../schemas.js';
import { availabilityJson, pageOf, ticketTypeJson, ticketTypeView } from '../views.js';

/** Gates one ticket type may list. */
const MAX_GATES = 50;

const ticketTypeFields = {
  name: text(100),
  description: freeText(5000).nullable().optional(),
  price: moneyInputSchema,
  quantity: z.number().int().min(0).max(10_000_000),
  max_per_purchase: z.number().int().min(1).max(1000).optional(),
  min_per_purchase: z.number().int().min(1).max(1000).optional(),
  valid_from: isoDate.nullable().optional(),
  valid_until: isoDate.nullable().optional(),
  status: z.enum(['active', 'locked', 'hidden']).optional(),
  /** Gates its tickets may enter at (empty = any); names are compared exactly as given, trimmed. */
  gates: z
    .array(text(LIMITS.gate))
    .max(MAX_GATES, { message: `must list at most ${MAX_GATES} gates` })
    .refine((g) => new Set(g).size === g.length, { message: 'must not repeat a gate' })
    .optional(),
  price_floor: moneyInputSchema.nullable().optional(),
  price_cap: moneyInputSchema.nullable().optional(),
  opens_after_sold_out: uuid.nullable().optional(),
};

type Limits = { min_per_purchase?: number; max_per_purchase?: number; valid_from?: string | null; valid_until?: string | null };
const consistent = (t: Limits) =>
  (t.min_per_purchase === undefined || t.max_per_purchase === undefined || t.min_per_purchase <= t.max_per_purchase) &&
  (!t.valid_from || !t.valid_until || Date.parse(t.valid_until) > Date.parse(t.valid_from));
const consistentMsg = { message: 'min_per_purchase must be ≤ max_per_purchase and valid_from before valid_until' };

const createBody = z.strictObject(ticketTypeFields).refine(consistent, consistentMsg);
const updateBody = z
  .strictObject(ticketTypeFields)
  .partial()
  .refine((p) => Object.keys(p).length > 0, { message: 'no fields to update' })
  .refine(consistent, consistentMsg);
const typeParams = z.object({ id: uuid, type: uuid });

export function ticketRoutes(deps: RestDeps, reads: ReadModels): RouteSpec[] {
  const { pool, caches, availability, inventory, streams } = deps;
  const frames = sseFrames();
  /** Without dynamic pricing a ticket type's price range is its base price (read late: route lists are also built from empty deps). */
  const dynamicPricing = () => deps.config.pricing.dynamicEnabled;

  /** After a catalog write: drop cached details, and let the actor re-read the catalog (it re-projects). */
  async function changed(eventId: string): Promise<void> {
    await caches.eventChanged(eventId);
    await inventory.syncCatalog(eventId).catch((err: unknown) => deps.log.warn({ err, eventId }, 'inventory catalog sync failed'));
    reads.live().invalidate(eventId); // this pod's next read sees what the actor just projected
  }

  /** Live availability (in-process, fed over pub/sub); while Redis is unreachable, the (lagging) counters in Postgres. */
  async function liveAvailability(eventId: string): Promise<JsonBody> {
    const overlay = reads.live();
    const fresh = overlay.peek(eventId);
    if (fresh) return JsonBody.fromBytes(fresh.body);
    try {
      return JsonBody.fromBytes((await overlay.get(eventId)).body);
    } catch (err) {
      if (err instanceof AppError && err.code === 'DEPENDENCY') return JsonBody.of(await loadAvailability(pool, eventId));
      throw err;
    }
  }

  /** A ticket type as the actor sees it now (Postgres counters may lag a moment). */
  function withLevels(t: TicketType, result: LevelsResult | undefined): TicketType {
    const level = result?.levels.find((l) => l.ticketTypeId === t.id);
    if (!level) return t;
    const status = t.status === 'hidden' ? t.status : level.locked ? 'locked' : 'active';
    return { ...t, quantity: level.capacity, available: level.available, sold: level.sold, status };
  }

  return [
    route({
      method: 'get',
      path: '/events/:id/tickets',
      summary: 'Live availability and current price per ticket type',
      tag: 'tickets',
      auth: 'public',
      params: idParams,
      responses: { 200: { description: 'Availability', schema: availabilityJson } },
      handler: async ({ params, isAdmin }) => {
        await requireReadableEvent(pool, caches, params.id, isAdmin);
        return { body: await liveAvailability(params.id) };
      },
    }),
    route({
      method: 'get',
      path: '/events/:id/availability/stream',
      summary: 'Server-sent events: the availability snapshot at once, then every change',
      tag: 'tickets',
      auth: 'public',
      params: idParams,
      raw: true,
      responses: { 200: { description: 'text/event-stream of `availability` events' } },
      handler: async ({ params, ctx, isAdmin }) => {
        await requireReadableEvent(pool, caches, params.id, isAdmin);
        // One of the pod's stream slots (429 RATE_LIMITED when the client or the pod holds its share).
        const release = streams.open(addressKey(ctx.ip));
        try {
          const first = await liveAvailability(params.id);
          ctx.req.socket.setTimeout(0);
          ctx.req.socket.setNoDelay(true);
          ctx.status = 200;
          ctx.type = 'text/event-stream';
          ctx.set({ 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
          ctx.respond = false; // the stream writes the response itself, until the client goes
          await streamAvailability(ctx.res, {
            feed: availability,
            eventId: params.id,
            first: first.bytes,
            bufferMax: streams.bufferMax,
            frames,
            onEnd: (how) => {
              release();
              if (how === 'stalled') streams.dropped('sse');
            },
          });
        } catch (err) {
          release();
          if (ctx.res.headersSent) return;
          ctx.respond = true; // nothing was written: the error is rendered as usual
          throw err;
        }
      },
    }),
    route({
      method: 'get',
      path: '/tickets/types',
      summary: 'List ticket types (optionally of one event)',
      tag: 'tickets',
      auth: 'public',
      query: z.object({ event_id: uuid.optional(), limit: limitSchema, cursor: cursor.optional() }),
      responses: { 200: { description: 'A page of ticket types', schema: pageOf(ticketTypeJson) } },
      handler: async ({ query, isAdmin }) => {
        const publicOnly = !(await isAdmin());
        const page = await listTicketTypes(pool, { eventId: query.event_id, limit: query.limit, cursor: query.cursor, publicOnly });
        return { body: { items: page.items.map((t) => ticketTypeView(t, dynamicPricing())), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'get',
      path: '/tickets/:id',
      summary: 'Get a ticket type',
      tag: 'tickets',
      auth: 'public',
      params: idParams,
      responses: { 200: { description: 'The ticket type', schema: ticketTypeJson } },
      handler: async ({ params, isAdmin }) => {
        const type = await getTicketType(pool, params.id);
        await requireReadableEvent(pool, caches, type.eventId, isAdmin).catch((err: unknown) => {
          throw err instanceof AppError && err.code === 'NOT_FOUND' ? new NotFoundError('ticket type', params.id) : err;
        });
        return { body: ticketTypeView(type, dynamicPricing()) };
      },
    }),
    route({
      method: 'post',
      path: '/events/:id/tickets',
      summary: "Add a ticket type to an event; refused (409) when the types would add up to more than the event's max_capacity or the venue's capacity",
      tag: 'tickets',
      auth: 'admin',
      params: idParams,
      body: createBody,
      responses: { 201: { description: 'Created', schema: ticketTypeJson } },
      handler: async ({ params, body, authorization }) => {
        const created = await inventory.oneAtATime(params.id, () =>
          withTransaction(pool, async (c) => {
            await checkCapacityChange(c, inventory.as({ authorization }), params.id, { ticketTypeId: null, capacity: body.quantity });
            return createTicketType(c, params.id, body);
          }),
        );
        await changed(params.id);
        return { status: 201, body: ticketTypeView(created, dynamicPricing()) };
      },
    }),
    route({
      method: 'put',
      path: '/events/:id/tickets/:type',
      summary: "Update a ticket type (partial); quantity is refused below sold + held, and above what the event's max_capacity and the venue's capacity leave",
      tag: 'tickets',
      auth: 'admin',
      params: typeParams,
      body: updateBody,
      responses: { 200: { description: 'Updated', schema: ticketTypeJson } },
      handler: async ({ params, body, authorization }) => {
        const { quantity, status, ...fields } = body;
        // Catalog fields change in a transaction that commits only if the actor accepts
        // the quantity and lock changes, so a refused change leaves everything as it was.
        let levels: LevelsResult | undefined;
        const updated = await inventory.oneAtATime(params.id, () =>
          withTransaction(pool, async (c) => {
            // The event's row first (the capacity check's lock), then the ticket type's.
            if (quantity !== undefined) await checkCapacityChange(c, inventory.as({ authorization }), params.id, { ticketTypeId: params.type, capacity: quantity });
            const row = await updateTicketTypeFields(c, params.id, params.type, {
              ...fields,
              ...(status && status !== 'locked' ? { status } : {}),
            });
            if (quantity !== undefined) levels = await inventory.as({ authorization }).updateCapacity(params.id, params.type, quantity);
            if (status !== undefined && status !== 'hidden') {
              levels = await inventory.as({ authorization }).lock(params.id, params.type, status === 'locked', 'admin');
            }
            return row;
          }),
        );
        await changed(params.id);
        return { body: ticketTypeView(withLevels(updated, levels), dynamicPricing()) };
      },
    }),
    route({
      method: 'delete',
      path: '/events/:id/tickets/:type',
      summary: 'Delete a ticket type; refused (409) once tickets are sold or held',
      tag: 'tickets',
      auth: 'admin',
      params: typeParams,
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ params, authorization }) => {
        await withTransaction(pool, async (c) => {
          await inventory.as({ authorization }).removeTicketType(params.id, params.type); // CONFLICT once sold or held
          await deleteTicketType(c, params.id, params.type);
        });
        await changed(params.id);
        return { status: 204 };
      },
    }),
  ];
}
