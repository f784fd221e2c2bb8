/**
 * Capacity limits: the ticket types of an event may add up to at most the event's
 * `max_capacity` (when set) and its venue's `capacity` (when set). A write beyond either is
 * CONFLICT, with the numbers in its details (`requested_total`, `limit`, `limit_kind`).
 *
 * Race-free: every write that changes an event's total or its limits runs in a transaction
 * that first locks the event's row (`FOR NO KEY UPDATE`), so two of them (a ticket type
 * created on one pod, a capacity raised on another) take turns, and the second sees the
 * first. (Not `FOR UPDATE`: the actor asked for levels meanwhile writes journal rows whose
 * foreign key share-locks the event's key, which must not wait for this transaction.) A venue
 * write locks the venue, then each of its events. The total counts each ticket type's
 * capacity as its inventory actor holds it (the Postgres `quantity` lags it) and, for a type
 * the actor has not registered yet, the catalog's `quantity`.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { Queryable } from '../db/pool.js';

export type LimitKind = 'max_capacity' | 'venue_capacity';

export interface CapacityLimits {
  readonly eventId: string;
  readonly maxCapacity: number | null;
  readonly venueId: string | null;
  readonly venueCapacity: number | null;
}

/** What the check needs from the inventory: each registered ticket type's capacity. */
export interface CapacityLevels {
  levels(eventId: string): Promise<{ readonly levels: readonly { readonly ticketTypeId: string; readonly capacity: number }[] }>;
}

/** A ticket type's new capacity; `ticketTypeId` null = a type about to be created. */
export interface CapacityChange {
  readonly ticketTypeId: string | null;
  readonly capacity: number;
}

/** Lock the event's row for the rest of the transaction and read its limits. NOT_FOUND without the event. */
export async function lockEventLimits(db: Queryable, eventId: string): Promise<CapacityLimits> {
  const { rows } = await db.query<{ max_capacity: number | null; venue_id: string | null; capacity: number | null }>(
    `SELECT e.max_capacity, e.venue_id, v.capacity FROM events e LEFT JOIN venues v ON v.id = e.venue_id
     WHERE e.id = $1 FOR NO KEY UPDATE OF e`,
    [eventId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('event', eventId);
  return { eventId, maxCapacity: row.max_capacity, venueId: row.venue_id, venueCapacity: row.capacity };
}

/** The event's total capacity with `change` applied (actor capacities where known, else the catalog's). */
export async function totalCapacity(db: Queryable, inventory: CapacityLevels, eventId: string, change?: CapacityChange): Promise<number> {
  const [{ rows }, { levels }] = await Promise.all([
    db.query<{ id: string; quantity: number }>(`SELECT id, quantity FROM ticket_types WHERE event_id = $1 AND status <> 'deleted'`, [eventId]),
    inventory.levels(eventId),
  ]);
  const held = new Map(levels.map((l) => [l.ticketTypeId, l.capacity]));
  let total = change?.ticketTypeId === null ? change.capacity : 0;
  for (const t of rows) total += t.id === change?.ticketTypeId ? change.capacity : (held.get(t.id) ?? t.quantity);
  return total;
}

/** CONFLICT when `total` exceeds a limit, naming it and the numbers. */
export function requireWithinLimits(total: number, limits: CapacityLimits): void {
  const exceeded: [LimitKind, number][] = [];
  if (limits.maxCapacity !== null && total > limits.maxCapacity) exceeded.push(['max_capacity', limits.maxCapacity]);
  if (limits.venueCapacity !== null && total > limits.venueCapacity) exceeded.push(['venue_capacity', limits.venueCapacity]);
  if (exceeded.length === 0) return;
  const [kind, limit] = exceeded.sort((a, b) => a[1] - b[1])[0] as [LimitKind, number];
  throw new ConflictError(`the ticket types would add up to ${total}, over the ${kind === 'max_capacity' ? "event's max_capacity" : "venue's capacity"} of ${limit}`, {
    requested_total: total,
    limit,
    limit_kind: kind,
    event_id: limits.eventId,
    ...(kind === 'venue_capacity' && limits.venueId ? { venue_id: limits.venueId } : {}),
  });
}

const hasLimit = (l: CapacityLimits) => l.maxCapacity !== null || l.venueCapacity !== null;

/**
 * In a transaction: lock the event, and refuse `change` (a type's new capacity, or a new
 * type) if the total would exceed a limit. `override` replaces limits about to be written
 * (an event's new max_capacity or venue). Events without limits cost one locking read.
 */
export async function checkCapacityChange(
  db: Queryable,
  inventory: CapacityLevels,
  eventId: string,
  change?: CapacityChange,
  override?: Partial<Pick<CapacityLimits, 'maxCapacity' | 'venueId'>>,
): Promise<void> {
  const locked = await lockEventLimits(db, eventId);
  let limits = { ...locked, ...(override?.maxCapacity !== undefined ? { maxCapacity: override.maxCapacity } : {}) };
  if (override?.venueId !== undefined && override.venueId !== locked.venueId) {
    limits = { ...limits, venueId: override.venueId, venueCapacity: override.venueId === null ? null : await venueCapacity(db, override.venueId) };
  }
  if (!hasLimit(limits)) return;
  requireWithinLimits(await totalCapacity(db, inventory, eventId, change), limits);
}

async function venueCapacity(db: Queryable, venueId: string): Promise<number | null> {
  const { rows } = await db.query<{ capacity: number | null }>('SELECT capacity FROM venues WHERE id = $1', [venueId]);
  return rows[0]?.capacity ?? null; // an unknown venue is the event update's own VALIDATION error
}

/**
 * In a transaction, before a venue's capacity changes to `capacity`: lock the venue and each
 * of its events that is not cancelled, and refuse if one of them would be over it.
 */
export async function checkVenueCapacity(db: Queryable, inventory: CapacityLevels, venueId: string, capacity: number | null): Promise<void> {
  await db.query('SELECT 1 FROM venues WHERE id = $1 FOR NO KEY UPDATE', [venueId]);
  if (capacity === null) return;
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM events WHERE venue_id = $1 AND status <> 'cancelled' ORDER BY id FOR NO KEY UPDATE`,
    [venueId],
  );
  for (const e of rows) {
    requireWithinLimits(await totalCapacity(db, inventory, e.id), { eventId: e.id, maxCapacity: null, venueId, venueCapacity: capacity });
  }
}
