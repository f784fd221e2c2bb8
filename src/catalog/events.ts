/** Events: row type, domain type, and one function per database operation. */
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Queryable } from '../db/pool.js';
import { SQLSTATE, sqlstateOf } from '../db/sqlstate.js';
import { buildUpdate } from '../db/update.js';
import { decodeCursor, timeIdKey, toPage, type Page } from './cursor.js';

export type EventStatus = 'draft' | 'active' | 'cancelled' | 'completed';

export interface DbEvent {
  id: string;
  title: string;
  description: string | null;
  category: string;
  venue_id: string | null;
  start_date: Date;
  end_date: Date;
  status: EventStatus;
  featured: boolean;
  image_url: string | null;
  max_capacity: number | null;
  current_capacity: number;
  created_by: string | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface CatalogEvent {
  readonly id: string;
  readonly title: string;
  readonly description: string | null;
  readonly category: string;
  readonly venueId: string | null;
  readonly startDate: Date;
  readonly endDate: Date;
  readonly status: EventStatus;
  readonly featured: boolean;
  readonly imageUrl: string | null;
  readonly maxCapacity: number | null;
  readonly createdBy: string | null;
  readonly cancelledAt: Date | null;
  readonly cancelReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface EventInput {
  title: string;
  description?: string | null;
  category: string;
  venue_id?: string | null;
  start_date: string;
  end_date: string;
  status?: 'draft' | 'active';
  featured?: boolean;
  image_url?: string | null;
  max_capacity?: number | null;
}

export interface EventFilter {
  category?: string;
  city?: string;
  from?: string;
  to?: string;
  featured?: boolean;
  q?: string;
  /** Public listing shows active events only; admins may ask for others. */
  statuses?: readonly EventStatus[];
  /** Events that have ended too (by default only those whose end is still ahead). */
  includePast?: boolean;
  limit: number;
  cursor?: string;
}

export const EVENT_COLUMNS =
  'e.id, e.title, e.description, e.category, e.venue_id, e.start_date, e.end_date, e.status, e.featured, e.image_url, e.max_capacity, e.current_capacity, e.created_by, e.cancelled_at, e.cancel_reason, e.created_at, e.updated_at';

export function toEvent(r: DbEvent): CatalogEvent {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    category: r.category,
    venueId: r.venue_id,
    startDate: r.start_date,
    endDate: r.end_date,
    status: r.status,
    featured: r.featured,
    imageUrl: r.image_url,
    maxCapacity: r.max_capacity,
    createdBy: r.created_by,
    cancelledAt: r.cancelled_at,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function getEvent(db: Queryable, id: string): Promise<CatalogEvent> {
  const { rows } = await db.query<DbEvent>(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.id = $1`, [id]);
  const row = rows[0];
  if (!row) throw new NotFoundError('event', id);
  return toEvent(row);
}

/** The event's status (NOT_FOUND unless it exists). */
export async function getEventStatus(db: Queryable, id: string): Promise<EventStatus> {
  const { rows } = await db.query<{ status: EventStatus }>('SELECT status FROM events WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) throw new NotFoundError('event', id);
  return row.status;
}

/** NOT_FOUND unless the event exists. */
export async function requireEvent(db: Queryable, eventId: string): Promise<void> {
  const { rowCount } = await db.query('SELECT 1 FROM events WHERE id = $1', [eventId]);
  if (rowCount === 0) throw new NotFoundError('event', eventId);
}

/** `text` as a literal LIKE/ILIKE pattern: its `%`, `_` and `\` match only themselves. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** WHERE conditions of a listing filter (without the cursor), with their bound arguments. */
function filterSql(f: Omit<EventFilter, 'limit' | 'cursor'>): { where: string[]; args: unknown[] } {
  const args: unknown[] = [];
  const where: string[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  where.push(`e.status = ANY(${arg(f.statuses ?? ['active'])}::text[])`);
  if (!f.includePast) where.push('e.end_date > now()');
  if (f.category) where.push(`lower(e.category) = lower(${arg(f.category)})`);
  if (f.city) where.push(`EXISTS (SELECT 1 FROM venues v WHERE v.id = e.venue_id AND lower(v.city) = lower(${arg(f.city)}))`);
  if (f.from) where.push(`e.start_date >= ${arg(f.from)}::timestamptz`);
  if (f.to) where.push(`e.start_date < ${arg(f.to)}::timestamptz`);
  if (f.featured !== undefined) where.push(`e.featured = ${arg(f.featured)}`);
  if (f.q) {
    where.push(`(e.search_vector @@ websearch_to_tsquery('simple', ${arg(f.q)}) OR e.title ILIKE ${arg(`%${escapeLike(f.q)}%`)})`);
  }
  return { where, args };
}

/** Keyset pagination on (start_date, id); every filter is a bound parameter. */
export async function listEvents(db: Queryable, f: EventFilter): Promise<Page<CatalogEvent>> {
  const { where, args } = filterSql(f);
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.cursor) {
    const [start, id] = decodeCursor(f.cursor, timeIdKey);
    where.push(`(e.start_date, e.id) > (${arg(start)}::timestamptz, ${arg(id)}::uuid)`);
  }
  const { rows } = await db.query<DbEvent>(
    `SELECT ${EVENT_COLUMNS} FROM events e WHERE ${where.join(' AND ')}
     ORDER BY e.start_date, e.id LIMIT ${arg(f.limit + 1)}`,
    args,
  );
  return toPage(rows, f.limit, (r) => [r.start_date.toISOString(), r.id], toEvent);
}

/** How many events match a filter (all pages). */
export async function countEvents(db: Queryable, f: Omit<EventFilter, 'limit' | 'cursor'>): Promise<number> {
  const { where, args } = filterSql(f);
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM events e WHERE ${where.join(' AND ')}`, args);
  return Number(rows[0]?.n ?? 0);
}

export async function listFeatured(db: Queryable, limit: number, includePast = false): Promise<CatalogEvent[]> {
  const { rows } = await db.query<DbEvent>(
    `SELECT ${EVENT_COLUMNS} FROM events e
     WHERE e.featured AND e.status = 'active' AND ($2 OR e.end_date > now())
     ORDER BY e.start_date, e.id LIMIT $1`,
    [limit, includePast],
  );
  return rows.map(toEvent);
}

export interface CategoryCount {
  readonly name: string;
  readonly eventCount: number;
}

export async function listCategories(db: Queryable): Promise<CategoryCount[]> {
  const { rows } = await db.query<{ name: string; n: string }>(
    `SELECT category AS name, count(*) AS n FROM events WHERE status = 'active'
     GROUP BY category ORDER BY count(*) DESC, category`,
  );
  return rows.map((r) => ({ name: r.name, eventCount: Number(r.n) }));
}

function rethrowVenueFk(err: unknown, venueId: string | null | undefined): never {
  if (sqlstateOf(err) === SQLSTATE.FOREIGN_KEY_VIOLATION) {
    throw new ValidationError(`venue ${venueId ?? ''} does not exist`, { field: 'venue_id' });
  }
  throw err;
}

export async function createEvent(db: Queryable, input: EventInput, createdBy: string | null): Promise<CatalogEvent> {
  try {
    const { rows } = await db.query<DbEvent>(
      `INSERT INTO events AS e (title, description, category, venue_id, start_date, end_date, status, featured,
                                image_url, max_capacity, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${EVENT_COLUMNS}`,
      [
        input.title,
        input.description ?? null,
        input.category,
        input.venue_id ?? null,
        input.start_date,
        input.end_date,
        input.status ?? 'active',
        input.featured ?? false,
        input.image_url ?? null,
        input.max_capacity ?? null,
        createdBy,
      ],
    );
    return toEvent(rows[0] as DbEvent);
  } catch (err) {
    rethrowVenueFk(err, input.venue_id);
  }
}

const EVENT_UPDATE = {
  title: { column: 'title' },
  description: { column: 'description' },
  category: { column: 'category' },
  venue_id: { column: 'venue_id' },
  start_date: { column: 'start_date', cast: 'timestamptz' },
  end_date: { column: 'end_date', cast: 'timestamptz' },
  status: { column: 'status' },
  featured: { column: 'featured' },
  image_url: { column: 'image_url' },
  max_capacity: { column: 'max_capacity' },
} as const;

export async function updateEvent(
  db: Queryable,
  id: string,
  patch: Partial<Omit<EventInput, 'status'>> & { status?: EventStatus },
): Promise<CatalogEvent> {
  const { sets, args } = buildUpdate(patch, EVENT_UPDATE);
  args.push(id);
  // Cancelled is final: a status write never revives the event (checked in the UPDATE itself,
  // so a cancel committed meanwhile wins).
  const final = patch.status === undefined ? '' : ` AND e.status <> 'cancelled'`;
  try {
    const { rows } = await db.query<DbEvent>(
      `UPDATE events AS e SET ${sets.join(', ')} WHERE e.id = $${args.length}${final} RETURNING ${EVENT_COLUMNS}`,
      args,
    );
    const row = rows[0];
    if (!row) {
      await requireEvent(db, id);
      throw new ConflictError('a cancelled event stays cancelled', { status: 'cancelled' });
    }
    return toEvent(row);
  } catch (err) {
    if (sqlstateOf(err) === SQLSTATE.CHECK_VIOLATION) {
      throw new ValidationError('end_date must not be before start_date', { field: 'end_date' });
    }
    rethrowVenueFk(err, patch.venue_id);
  }
}
