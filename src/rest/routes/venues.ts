import { z } from 'zod';
import { createVenue, deleteVenue, getVenue, listVenues, updateVenue } from '../../catalog/venues.js';
import { limitSchema } from '../../catalog/cursor.js';
import { checkVenueCapacity } from '../../catalog/capacity.js';
import { withTransaction } from '../../db/pool.js';
import type { RestDeps } from '../deps.js';
import { route, type RouteSpec } from '../route.js';
import { cursor, idParams, text } from '../schemas.js';
import { pageOf, venueJson, venueView } from '../views.js';

const venueBody = z.strictObject({
  name: text(255),
  address: text(2000),
  city: text(100),
  state: text(100).nullable().optional(),
  country: text(100),
  postal_code: text(20).nullable().optional(),
  latitude: z.number().min(-90).max(90).nullable().optional(),
  longitude: z.number().min(-180).max(180).nullable().optional(),
  capacity: z.number().int().min(0).max(10_000_000).nullable().optional(),
  amenities: z.array(text(100)).max(100).optional(),
});
const venuePatch = venueBody.partial().refine((p) => Object.keys(p).length > 0, { message: 'no fields to update' });

export function venueRoutes({ pool, caches, inventory }: RestDeps): RouteSpec[] {
  /** Event detail embeds its venue: drop the cached details of events held there. */
  async function invalidateEventsAt(venueId: string): Promise<void> {
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM events WHERE venue_id = $1', [venueId]);
    await Promise.all(rows.map((r) => caches.eventChanged(r.id)));
  }

  return [
    route({
      method: 'get',
      path: '/venues',
      summary: 'List venues',
      tag: 'venues',
      auth: 'public',
      query: z.object({ city: text(100).optional(), limit: limitSchema, cursor: cursor.optional() }),
      responses: { 200: { description: 'A page of venues', schema: pageOf(venueJson) } },
      handler: async ({ query }) => {
        const page = await listVenues(pool, query);
        return { body: { items: page.items.map(venueView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'get',
      path: '/venues/:id',
      summary: 'Get a venue',
      tag: 'venues',
      auth: 'public',
      params: idParams,
      responses: { 200: { description: 'The venue', schema: venueJson } },
      handler: async ({ params }) => ({ body: venueView(await getVenue(pool, params.id)) }),
    }),
    route({
      method: 'post',
      path: '/venues',
      summary: 'Create a venue',
      tag: 'venues',
      auth: 'admin',
      body: venueBody,
      responses: { 201: { description: 'Created', schema: venueJson } },
      handler: async ({ body }) => ({ status: 201, body: venueView(await createVenue(pool, body)) }),
    }),
    route({
      method: 'put',
      path: '/venues/:id',
      summary: "Update a venue (partial); a capacity below the ticket types of an event held there is refused (409)",
      tag: 'venues',
      auth: 'admin',
      params: idParams,
      body: venuePatch,
      responses: { 200: { description: 'Updated', schema: venueJson } },
      handler: async ({ params, body, authorization }) => {
        const venue = await withTransaction(pool, async (c) => {
          if (body.capacity !== undefined) await checkVenueCapacity(c, inventory.as({ authorization }), params.id, body.capacity);
          return updateVenue(c, params.id, body);
        });
        await invalidateEventsAt(venue.id);
        return { body: venueView(venue) };
      },
    }),
    route({
      method: 'delete',
      path: '/venues/:id',
      summary: 'Delete a venue without events',
      tag: 'venues',
      auth: 'admin',
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ params }) => {
        await deleteVenue(pool, params.id);
        return { status: 204 };
      },
    }),
  ];
}
