/**
 * An event's search document: what Elasticsearch stores (and returns as `_source`) and
 * what cached search results hold. It carries the event's public fields, its venue's
 * name, city and location, and the lowest visible ticket price — not the tickets sold:
 * sales change no document (migrations/0011). It is read from Postgres in one statement
 * together with the outbox version, so a document and its version always belong together.
 */
import type { CatalogEvent, DbEvent, EventStatus } from '../catalog/events.js';
import type { Queryable } from '../db/pool.js';

export interface SearchDocument {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly category: string;
  readonly status: EventStatus;
  readonly featured: boolean;
  readonly venue_id: string | null;
  readonly venue_name: string | null;
  readonly city: string | null;
  readonly location: { readonly lat: number; readonly lon: number } | null;
  readonly start_date: string;
  readonly end_date: string;
  readonly image_url: string | null;
  readonly max_capacity: number | null;
  readonly price_from_minor: number | null;
  readonly currency: string | null;
  readonly cancelled_at: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/** A document at its version; `doc` is null when the event no longer exists (delete it). */
export interface VersionedDocument {
  readonly eventId: string;
  readonly version: number;
  readonly doc: SearchDocument | null;
}

interface DbDocumentRow extends Partial<DbEvent> {
  event_id: string;
  version: string;
  venue_name: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  price_from_minor: string | null;
  currency: string | null;
}

const DOCUMENT_SELECT = `
  SELECT o.event_id, o.version, e.id, e.title, e.description, e.category, e.venue_id, e.start_date, e.end_date,
         e.status, e.featured, e.image_url, e.max_capacity, e.cancelled_at, e.created_at, e.updated_at,
         v.name AS venue_name, v.city, v.latitude::float8 AS latitude, v.longitude::float8 AS longitude,
         p.price_minor AS price_from_minor, p.currency
  FROM search_outbox o
  LEFT JOIN events e ON e.id = o.event_id
  LEFT JOIN venues v ON v.id = e.venue_id
  LEFT JOIN LATERAL (
    SELECT t.price_minor, t.currency FROM ticket_types t
    WHERE t.event_id = e.id AND t.status NOT IN ('hidden', 'deleted')
    ORDER BY t.price_minor, t.id LIMIT 1) p ON true`;

function toDocument(r: DbDocumentRow): VersionedDocument {
  const version = Number(r.version);
  if (r.id == null || r.title == null || r.start_date == null || r.end_date == null || r.created_at == null || r.updated_at == null) {
    return { eventId: r.event_id, version, doc: null };
  }
  return {
    eventId: r.event_id,
    version,
    doc: {
      id: r.id,
      title: r.title,
      description: r.description ?? null,
      category: r.category ?? '',
      status: r.status ?? 'draft',
      featured: r.featured ?? false,
      venue_id: r.venue_id ?? null,
      venue_name: r.venue_name,
      city: r.city,
      location: r.latitude !== null && r.longitude !== null ? { lat: r.latitude, lon: r.longitude } : null,
      start_date: r.start_date.toISOString(),
      end_date: r.end_date.toISOString(),
      image_url: r.image_url ?? null,
      max_capacity: r.max_capacity ?? null,
      price_from_minor: r.price_from_minor === null ? null : Number(r.price_from_minor),
      currency: r.currency,
      cancelled_at: r.cancelled_at?.toISOString() ?? null,
      created_at: r.created_at.toISOString(),
      updated_at: r.updated_at.toISOString(),
    },
  };
}

/** The current documents (and versions) of these events. */
export async function loadDocuments(db: Queryable, eventIds: readonly string[]): Promise<VersionedDocument[]> {
  if (eventIds.length === 0) return [];
  const { rows } = await db.query<DbDocumentRow>(`${DOCUMENT_SELECT} WHERE o.event_id = ANY($1::uuid[])`, [eventIds]);
  return rows.map(toDocument);
}

/** One page (by event id) of every existing event's document, for a full reindex. */
export async function loadDocumentPage(db: Queryable, afterId: string | null, limit: number): Promise<VersionedDocument[]> {
  const { rows } = await db.query<DbDocumentRow>(
    `${DOCUMENT_SELECT} WHERE e.id IS NOT NULL AND ($1::uuid IS NULL OR o.event_id > $1::uuid) ORDER BY o.event_id LIMIT $2`,
    [afterId, limit],
  );
  return rows.map(toDocument);
}

/** The catalog event a document describes (what search results list). */
export function documentEvent(d: SearchDocument): CatalogEvent {
  return {
    id: d.id,
    title: d.title,
    description: d.description,
    category: d.category,
    venueId: d.venue_id,
    startDate: new Date(d.start_date),
    endDate: new Date(d.end_date),
    status: d.status,
    featured: d.featured,
    imageUrl: d.image_url,
    maxCapacity: d.max_capacity,
    createdBy: null,
    cancelledAt: d.cancelled_at === null ? null : new Date(d.cancelled_at),
    cancelReason: null,
    createdAt: new Date(d.created_at),
    updatedAt: new Date(d.updated_at),
  };
}
