/** JSON shapes of REST responses (snake_case, money with display strings). */
import { z } from 'zod';
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
