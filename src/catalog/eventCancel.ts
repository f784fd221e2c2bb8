/** Cancelling and deleting events in the catalog (the inventory side is the actor's CancelEvent). */
import { NotFoundError } from '../errors.js';
import type { Queryable } from '../db/pool.js';
import { EVENT_COLUMNS, toEvent, type CatalogEvent, type DbEvent } from './events.js';

/** Has anything been sold or held for this event? Such an event is never erased. */
export async function hasSales(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query<{ sold: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM tickets WHERE event_id = $1)
         OR EXISTS (SELECT 1 FROM reservations WHERE event_id = $1 AND status IN ('HELD', 'CONFIRMED'))
         OR EXISTS (SELECT 1 FROM ticket_types WHERE event_id = $1 AND sold_quantity > 0) AS sold`,
    [id],
  );
  return rows[0]?.sold === true;
}

export type RemoveOutcome = { readonly kind: 'deleted' } | { readonly kind: 'cancelled'; readonly event: CatalogEvent };

/** NOTIFY channel of a cancel written outside the pods (ticketctl); the payload is the event id. */
export const EVENT_CANCELLED_CHANNEL = 'event_cancelled';

/** Has the event's inventory journaled its cancellation (or never journaled anything, so it has nothing to undo)? */
export async function inventoryCancelled(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query<{ done: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM inventory_journal WHERE event_id = $1 AND kind = 'EventCancelled')
         OR NOT EXISTS (SELECT 1 FROM inventory_journal WHERE event_id = $1) AS done`,
    [id],
  );
  return rows[0]?.done === true;
}

/** Those of `ids` the catalog says are cancelled. */
export async function cancelledAmong(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM events WHERE id = ANY($1::uuid[]) AND status = 'cancelled'`, [ids]);
  return rows.map((r) => r.id);
}

/** The reason recorded when an event with sales is deleted (and so cancelled). */
export const DELETED_WITH_SALES = 'the event was deleted';

/**
 * Mark the event cancelled in the catalog (final; the first reason and time stay). The
 * event's inventory actor must be told afterwards (it also applies this itself whenever
 * it loads or syncs the event). NOT_FOUND when there is no such event.
 */
export async function markCancelled(db: Queryable, id: string, reason: string): Promise<CatalogEvent> {
  const { rows } = await db.query<DbEvent>(
    `UPDATE events AS e SET status = 'cancelled', cancelled_at = coalesce(cancelled_at, now()),
            cancel_reason = coalesce(cancel_reason, $2), updated_at = now()
     WHERE e.id = $1 RETURNING ${EVENT_COLUMNS}`,
    [id, reason],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('event', id);
  return toEvent(row);
}

/**
 * DELETE semantics: an event with sales is cancelled (status, cancelled_at, reason) and
 * nothing is erased; an event without sales is deleted with its ticket types. Runs in the
 * caller's transaction; the event row is locked so a concurrent sale cannot slip between
 * check and delete.
 */
export async function removeEvent(db: Queryable, id: string): Promise<RemoveOutcome> {
  const { rowCount } = await db.query('SELECT 1 FROM events WHERE id = $1 FOR UPDATE', [id]);
  if (rowCount === 0) throw new NotFoundError('event', id);
  if (await hasSales(db, id)) return { kind: 'cancelled', event: await markCancelled(db, id, DELETED_WITH_SALES) };
  await db.query('DELETE FROM events WHERE id = $1', [id]);
  return { kind: 'deleted' };
}
