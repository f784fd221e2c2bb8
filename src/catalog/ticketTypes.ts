/**
 * Ticket types: row type, domain type, one function per database operation.
 * Until the inventory actor lands, `available_quantity` here is the availability.
 */
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Queryable } from '../db/pool.js';
import { SQLSTATE, sqlstateOf } from '../db/sqlstate.js';
import { buildUpdate } from '../db/update.js';
import { requireEvent } from './events.js';
import { pageByCreatedAt, type Page } from './cursor.js';
import { int8 } from './money.js';
import { publicEventCondition } from './visibility.js';
import { checkPricingFields, requireRestatedBounds } from './ticketTypePricing.js';

export type TicketTypeStatus = 'active' | 'locked' | 'hidden' | 'deleted';

export interface DbTicketType {
  id: string;
  event_id: string;
  name: string;
  description: string | null;
  price_minor: string;
  currency: string;
  quantity: number;
  available_quantity: number;
  sold_quantity: number;
  max_per_purchase: number;
  min_per_purchase: number;
  valid_from: Date | null;
  valid_until: Date | null;
  status: TicketTypeStatus;
  gates: string[];
  price_floor_minor: string | null;
  price_cap_minor: string | null;
  opens_after_sold_out: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface TicketType {
  readonly id: string;
  readonly eventId: string;
  readonly name: string;
  readonly description: string | null;
  readonly priceMinor: number;
  readonly currency: string;
  readonly quantity: number;
  readonly available: number;
  readonly sold: number;
  readonly maxPerPurchase: number;
  readonly minPerPurchase: number;
  readonly validFrom: Date | null;
  readonly validUntil: Date | null;
  readonly status: TicketTypeStatus;
  /** Gates its tickets may enter at; empty = any. */
  readonly gates: readonly string[];
  /** Dynamic price bounds (the ticket type's currency); null = the default clamp. */
  readonly priceFloorMinor: number | null;
  readonly priceCapMinor: number | null;
  /** A release tier: not on sale until this ticket type sells out. */
  readonly opensAfterSoldOut: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface TicketTypeInput {
  name: string;
  description?: string | null;
  price: { currency: string; amount_minor: number };
  quantity: number;
  max_per_purchase?: number;
  min_per_purchase?: number;
  valid_from?: string | null;
  valid_until?: string | null;
  status?: 'active' | 'locked' | 'hidden';
  gates?: string[];
  price_floor?: { currency: string; amount_minor: number } | null;
  price_cap?: { currency: string; amount_minor: number } | null;
  opens_after_sold_out?: string | null;
}

const COLUMNS =
  'id, event_id, name, description, price_minor, currency, quantity, available_quantity, sold_quantity, max_per_purchase, min_per_purchase, valid_from, valid_until, status, gates, price_floor_minor, price_cap_minor, opens_after_sold_out, created_at, updated_at';

export function toTicketType(r: DbTicketType): TicketType {
  return {
    id: r.id,
    eventId: r.event_id,
    name: r.name,
    description: r.description,
    priceMinor: int8(r.price_minor),
    currency: r.currency,
    quantity: r.quantity,
    available: r.available_quantity,
    sold: r.sold_quantity,
    maxPerPurchase: r.max_per_purchase,
    minPerPurchase: r.min_per_purchase,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    status: r.status,
    gates: r.gates,
    priceFloorMinor: r.price_floor_minor === null ? null : int8(r.price_floor_minor),
    priceCapMinor: r.price_cap_minor === null ? null : int8(r.price_cap_minor),
    opensAfterSoldOut: r.opens_after_sold_out,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Sale status a buyer sees, derived from availability, lock and sale window. */
export type SaleStatus = 'on_sale' | 'sold_out' | 'locked' | 'not_yet_on_sale' | 'sale_ended';

export function saleStatus(t: TicketType, now: Date): SaleStatus {
  if (t.status === 'locked') return 'locked';
  if (t.validFrom && now < t.validFrom) return 'not_yet_on_sale';
  if (t.validUntil && now >= t.validUntil) return 'sale_ended';
  return t.available > 0 ? 'on_sale' : 'sold_out';
}

export async function getTicketType(db: Queryable, id: string): Promise<TicketType> {
  const { rows } = await db.query<DbTicketType>(
    `SELECT ${COLUMNS} FROM ticket_types WHERE id = $1 AND status <> 'deleted'`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('ticket type', id);
  return toTicketType(row);
}

/** All visible ticket types of one event, cheapest first. */
export async function listEventTicketTypes(db: Queryable, eventId: string, includeHidden = false): Promise<TicketType[]> {
  const { rows } = await db.query<DbTicketType>(
    `SELECT ${COLUMNS} FROM ticket_types WHERE event_id = $1 AND status <> 'deleted'
       AND ($2 OR status <> 'hidden') ORDER BY price_minor, id`,
    [eventId, includeHidden],
  );
  return rows.map(toTicketType);
}

/** A page of visible ticket types; `publicOnly`: only those of events anyone may read. */
export async function listTicketTypes(
  db: Queryable,
  f: { eventId?: string; limit: number; cursor?: string; publicOnly?: boolean },
): Promise<Page<TicketType>> {
  const where = [
    "status NOT IN ('deleted', 'hidden')",
    ...(f.eventId ? ['event_id = $1'] : []),
    ...(f.publicOnly ? [publicEventCondition('event_id')] : []),
  ];
  const args = f.eventId ? [f.eventId] : [];
  return pageByCreatedAt(db, { table: 'ticket_types', columns: COLUMNS, where, args, limit: f.limit, cursor: f.cursor }, toTicketType);
}

function rethrowConstraint(err: unknown): never {
  const state = sqlstateOf(err);
  if (state === SQLSTATE.UNIQUE_VIOLATION) throw new ConflictError('a ticket type with this name exists for the event');
  if (state === SQLSTATE.CHECK_VIOLATION) {
    throw new ValidationError('ticket type values are inconsistent (min ≤ max per purchase, valid_from < valid_until)');
  }
  throw err;
}

export async function createTicketType(db: Queryable, eventId: string, input: TicketTypeInput): Promise<TicketType> {
  await requireEvent(db, eventId);
  await checkPricingFields(db, eventId, null, {
    currency: input.price.currency,
    floor: input.price_floor ?? null,
    cap: input.price_cap ?? null,
    opensAfter: input.opens_after_sold_out ?? null,
  });
  try {
    const { rows } = await db.query<DbTicketType>(
      `INSERT INTO ticket_types (event_id, name, description, price_minor, currency, quantity, available_quantity,
                                 max_per_purchase, min_per_purchase, valid_from, valid_until, status, gates,
                                 price_floor_minor, price_cap_minor, opens_after_sold_out)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING ${COLUMNS}`,
      [
        eventId,
        input.name,
        input.description ?? null,
        input.price.amount_minor,
        input.price.currency,
        input.quantity,
        input.max_per_purchase ?? 10,
        input.min_per_purchase ?? 1,
        input.valid_from ?? null,
        input.valid_until ?? null,
        input.status ?? 'active',
        input.gates ?? [],
        input.price_floor?.amount_minor ?? null,
        input.price_cap?.amount_minor ?? null,
        input.opens_after_sold_out ?? null,
      ],
    );
    return toTicketType(rows[0] as DbTicketType);
  } catch (err) {
    rethrowConstraint(err);
  }
}

const TICKET_TYPE_UPDATE = {
  name: { column: 'name' },
  description: { column: 'description' },
  price_minor: { column: 'price_minor' },
  currency: { column: 'currency' },
  max_per_purchase: { column: 'max_per_purchase' },
  min_per_purchase: { column: 'min_per_purchase' },
  valid_from: { column: 'valid_from', cast: 'timestamptz' },
  valid_until: { column: 'valid_until', cast: 'timestamptz' },
  status: { column: 'status' },
  gates: { column: 'gates', cast: 'text[]' },
  price_floor_minor: { column: 'price_floor_minor' },
  price_cap_minor: { column: 'price_cap_minor' },
  opens_after_sold_out: { column: 'opens_after_sold_out' },
} as const;

/**
 * Partial update of a ticket type's catalog fields (name, price, limits, sale window,
 * visibility). Quantity and the sales lock belong to the inventory actor and are not
 * changed here. Locks the row: run it in a transaction.
 */
export async function updateTicketTypeFields(
  db: Queryable,
  eventId: string,
  id: string,
  patch: Omit<Partial<TicketTypeInput>, 'quantity'>,
): Promise<TicketType> {
  const { rows: current } = await db.query<DbTicketType>(
    `SELECT ${COLUMNS} FROM ticket_types WHERE id = $1 AND event_id = $2 AND status <> 'deleted' FOR UPDATE`,
    [id, eventId],
  );
  const row = current[0];
  if (!row) throw new NotFoundError('ticket type', id);
  const { price, price_floor, price_cap, ...rest } = patch;
  const was = toTicketType(row);
  const currency = price?.currency ?? was.currency;
  requireRestatedBounds(was, currency, { floor: price_floor, cap: price_cap });
  const moneyOf = (minor: number | null) => (minor === null ? null : { currency, amount_minor: minor });
  await checkPricingFields(db, eventId, id, {
    currency,
    floor: price_floor === undefined ? moneyOf(was.priceFloorMinor) : price_floor,
    cap: price_cap === undefined ? moneyOf(was.priceCapMinor) : price_cap,
    opensAfter: patch.opens_after_sold_out === undefined ? was.opensAfterSoldOut : patch.opens_after_sold_out,
  });
  const { sets, args } = buildUpdate(
    {
      ...rest,
      price_minor: price?.amount_minor,
      currency: price?.currency,
      price_floor_minor: price_floor === undefined ? undefined : (price_floor?.amount_minor ?? null),
      price_cap_minor: price_cap === undefined ? undefined : (price_cap?.amount_minor ?? null),
    },
    TICKET_TYPE_UPDATE,
  );
  args.push(id);
  try {
    const { rows } = await db.query<DbTicketType>(
      `UPDATE ticket_types SET ${sets.join(', ')} WHERE id = $${args.length} RETURNING ${COLUMNS}`,
      args,
    );
    return toTicketType(rows[0] as DbTicketType);
  } catch (err) {
    rethrowConstraint(err);
  }
}

/**
 * Remove a ticket type row. The inventory actor has already refused this if anything is
 * sold or held; issued tickets also block it here (they reference the row).
 */
export async function deleteTicketType(db: Queryable, eventId: string, id: string): Promise<void> {
  const { rows } = await db.query<{ tickets: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM tickets WHERE ticket_type_id = $1) AS tickets
     FROM ticket_types WHERE id = $1 AND event_id = $2 AND status <> 'deleted' FOR UPDATE`,
    [id, eventId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('ticket type', id);
  if (row.tickets) throw new ConflictError('ticket type has issued tickets; lock it instead');
  await db.query('DELETE FROM ticket_types WHERE id = $1', [id]);
}
