/** Venues: row type, domain type, and one function per database operation. */
import { NotFoundError, ConflictError } from '../errors.js';
import type { Queryable } from '../db/pool.js';
import { buildUpdate } from '../db/update.js';
import { pageByCreatedAt, type Page } from './cursor.js';

export interface DbVenue {
  id: string;
  name: string;
  address: string;
  city: string;
  state: string | null;
  country: string;
  postal_code: string | null;
  latitude: string | null;
  longitude: string | null;
  capacity: number | null;
  amenities: string[];
  created_at: Date;
  updated_at: Date;
}

export interface Venue {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly city: string;
  readonly state: string | null;
  readonly country: string;
  readonly postalCode: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly capacity: number | null;
  readonly amenities: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface VenueInput {
  name: string;
  address: string;
  city: string;
  state?: string | null;
  country: string;
  postal_code?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  capacity?: number | null;
  amenities?: string[];
}

export const VENUE_COLUMNS =
  'id, name, address, city, state, country, postal_code, latitude, longitude, capacity, amenities, created_at, updated_at';

export function toVenue(r: DbVenue): Venue {
  return {
    id: r.id,
    name: r.name,
    address: r.address,
    city: r.city,
    state: r.state,
    country: r.country,
    postalCode: r.postal_code,
    latitude: r.latitude === null ? null : Number(r.latitude),
    longitude: r.longitude === null ? null : Number(r.longitude),
    capacity: r.capacity,
    amenities: r.amenities,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function getVenue(db: Queryable, id: string): Promise<Venue> {
  const { rows } = await db.query<DbVenue>(`SELECT ${VENUE_COLUMNS} FROM venues WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row) throw new NotFoundError('venue', id);
  return toVenue(row);
}

export async function listVenues(
  db: Queryable,
  filter: { city?: string; limit: number; cursor?: string },
): Promise<Page<Venue>> {
  const where = filter.city ? ['lower(city) = lower($1)'] : [];
  const args = filter.city ? [filter.city] : [];
  return pageByCreatedAt(db, { table: 'venues', columns: VENUE_COLUMNS, where, args, ...filter }, toVenue);
}

export async function createVenue(db: Queryable, input: VenueInput): Promise<Venue> {
  const { rows } = await db.query<DbVenue>(
    `INSERT INTO venues (name, address, city, state, country, postal_code, latitude, longitude, capacity, amenities)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING ${VENUE_COLUMNS}`,
    [
      input.name,
      input.address,
      input.city,
      input.state ?? null,
      input.country,
      input.postal_code ?? null,
      input.latitude ?? null,
      input.longitude ?? null,
      input.capacity ?? null,
      JSON.stringify(input.amenities ?? []),
    ],
  );
  return toVenue(rows[0] as DbVenue);
}

const VENUE_UPDATE = {
  name: { column: 'name' },
  address: { column: 'address' },
  city: { column: 'city' },
  state: { column: 'state' },
  country: { column: 'country' },
  postal_code: { column: 'postal_code' },
  latitude: { column: 'latitude' },
  longitude: { column: 'longitude' },
  capacity: { column: 'capacity' },
  amenities: { column: 'amenities', cast: 'jsonb', encode: (v: unknown) => JSON.stringify(v) },
} as const;

/** Partial update: only the given fields change. */
export async function updateVenue(db: Queryable, id: string, patch: Partial<VenueInput>): Promise<Venue> {
  const { sets, args } = buildUpdate(patch, VENUE_UPDATE);
  args.push(id);
  const { rows } = await db.query<DbVenue>(
    `UPDATE venues SET ${sets.join(', ')} WHERE id = $${args.length} RETURNING ${VENUE_COLUMNS}`,
    args,
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('venue', id);
  return toVenue(row);
}

/** Refused with CONFLICT while events still take place there. */
export async function deleteVenue(db: Queryable, id: string): Promise<void> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE venue_id = $1', [id]);
  if (Number(rows[0]?.n ?? 0) > 0) {
    throw new ConflictError('venue has events; move or delete them first', { events: Number(rows[0]?.n) });
  }
  const res = await db.query('DELETE FROM venues WHERE id = $1', [id]);
  if (res.rowCount === 0) throw new NotFoundError('venue', id);
}
