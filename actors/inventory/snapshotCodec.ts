/**
 * Snapshot encoding. Recovery time is dominated by parsing the snapshot, so the state is
 * stored compactly: reservations and tickets as tuples instead of keyed objects, ticket
 * type ids as indexes into a dictionary, and each reservation's ticket ids rebuilt from the
 * tickets (which are kept in issue order). Version 2; gzip around it. The state's own JSON
 * (version 1: `{eventId, seq, ...}`) is still read, so older snapshots recover. The
 * cancellation is an optional field: snapshots written before it existed load as not cancelled.
 */
import { emptyPricing, type InventoryState, type LineItem, type Reservation, type ReservationStatus, type Ticket, type TicketStatus } from './model.js';

const RESERVATION_STATUS: readonly ReservationStatus[] = ['HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED'];
const TICKET_STATUS: readonly TicketStatus[] = ['VALID', 'USED', 'VOID'];

type ReservationTuple = [
  id: string,
  status: number,
  items: [type: number, quantity: number, unitPriceMinor: number][],
  currency: string,
  subtotalMinor: number,
  discountMinor: number,
  totalMinor: number,
  promoCode: string | null,
  customerId: string | null,
  expiresAt: number,
  requestHash: string,
  paymentReference: string | null,
];
type TicketTuple = [id: string, type: number, reservationId: string, priceMinor: number, status: number, checkedInAt: number | null, gate: string | null];

interface CompactState {
  readonly v: 2;
  readonly eventId: string;
  readonly seq: number;
  readonly eventLocked: boolean;
  readonly levels: InventoryState['levels'];
  readonly promoUses: InventoryState['promoUses'];
  /** Absent in snapshots older than event cancellation (= not cancelled). */
  readonly cancelled?: InventoryState['cancelled'];
  /** Absent in snapshots older than dynamic pricing (= nothing priced yet). */
  readonly pricing?: InventoryState['pricing'];
  readonly types: string[];
  readonly reservations: ReservationTuple[];
  readonly tickets: TicketTuple[];
}

/** Ticket type ids as indexes into a dictionary filled in first-use order. */
function typeDictionary() {
  const types: string[] = [];
  const typeIndex = new Map<string, number>();
  const type = (id: string) => {
    let i = typeIndex.get(id);
    if (i === undefined) {
      i = types.push(id) - 1;
      typeIndex.set(id, i);
    }
    return i;
  };
  return { types, type };
}

function reservationTuple(r: Reservation, type: (id: string) => number): ReservationTuple {
  return [
    r.id,
    RESERVATION_STATUS.indexOf(r.status),
    r.items.map((i) => [type(i.ticketTypeId), i.quantity, i.unitPriceMinor]),
    r.currency,
    r.subtotalMinor,
    r.discountMinor,
    r.totalMinor,
    r.promoCode,
    r.customerId,
    r.expiresAt,
    r.requestHash,
    r.paymentReference,
  ];
}

function ticketTuple(t: Ticket, type: (id: string) => number): TicketTuple {
  return [t.id, type(t.ticketTypeId), t.reservationId, t.priceMinor, TICKET_STATUS.indexOf(t.status), t.checkedInAt, t.gate];
}

export function toCompact(state: InventoryState): CompactState {
  const { types, type } = typeDictionary();
  return {
    v: 2,
    eventId: state.eventId,
    seq: state.seq,
    eventLocked: state.eventLocked,
    levels: state.levels,
    promoUses: state.promoUses,
    cancelled: state.cancelled,
    pricing: state.pricing,
    types,
    reservations: Object.values(state.reservations).map((r) => reservationTuple(r, type)),
    tickets: Object.values(state.tickets).map((t) => ticketTuple(t, type)),
  };
}

/** Rows encoded between two yields of {@link snapshotJsonInSlices}. */
export const SNAPSHOT_SLICE_ROWS = 2_000;

/**
 * The compact snapshot JSON of `state` as it is NOW, built in slices with `pause()` awaited
 * between them, so that a large event (tens of thousands of reservations) does not stall
 * the event loop that runs every actor for tens of milliseconds.
 *
 * Consistent although the actor keeps evolving `state` meanwhile: everything is captured
 * synchronously before the first pause. Reservation and ticket objects are never mutated
 * (evolve replaces them), so the captured lists of references stay as they were; levels
 * and promo uses are mutated in place, so they are copied.
 */
export async function snapshotJsonInSlices(
  state: InventoryState,
  pause: () => Promise<void>,
  sliceRows = SNAPSHOT_SLICE_ROWS,
): Promise<string> {
  const head = JSON.stringify({ v: 2, eventId: state.eventId, seq: state.seq, eventLocked: state.eventLocked, levels: state.levels, promoUses: state.promoUses, cancelled: state.cancelled, pricing: state.pricing });
  const reservations = Object.values(state.reservations);
  const tickets = Object.values(state.tickets);
  const { types, type } = typeDictionary();
  async function list<T>(rows: readonly T[], tuple: (row: T) => unknown): Promise<string> {
    const parts: string[] = [];
    for (let from = 0; from < rows.length; from += sliceRows) {
      if (from > 0) await pause();
      const json = JSON.stringify(rows.slice(from, from + sliceRows).map(tuple));
      parts.push(json.slice(1, -1));
    }
    return `[${parts.join(',')}]`;
  }
  const reservationsJson = await list(reservations, (r) => reservationTuple(r, type));
  const ticketsJson = await list(tickets, (t) => ticketTuple(t, type));
  return `${head.slice(0, -1)},"types":${JSON.stringify(types)},"reservations":${reservationsJson},"tickets":${ticketsJson}}`;
}

export function fromCompact(c: CompactState): InventoryState {
  const typeOf = (i: number) => c.types[i] as string;
  const ticketIds = new Map<string, string[]>();
  const tickets: Record<string, Ticket> = {};
  for (const [id, type, reservationId, priceMinor, status, checkedInAt, gate] of c.tickets) {
    tickets[id] = { id, ticketTypeId: typeOf(type), reservationId, priceMinor, status: TICKET_STATUS[status] as TicketStatus, checkedInAt, gate };
    const list = ticketIds.get(reservationId);
    if (list) list.push(id);
    else ticketIds.set(reservationId, [id]);
  }
  const reservations: Record<string, Reservation> = {};
  for (const [id, status, items, currency, subtotalMinor, discountMinor, totalMinor, promoCode, customerId, expiresAt, requestHash, paymentReference] of c.reservations) {
    reservations[id] = {
      id,
      status: RESERVATION_STATUS[status] as ReservationStatus,
      items: items.map(([type, quantity, unitPriceMinor]): LineItem => ({ ticketTypeId: typeOf(type), quantity, unitPriceMinor })),
      currency,
      subtotalMinor,
      discountMinor,
      totalMinor,
      promoCode,
      customerId,
      expiresAt,
      requestHash,
      paymentReference,
      ticketIds: ticketIds.get(id) ?? [],
    };
  }
  return {
    eventId: c.eventId,
    seq: c.seq,
    eventLocked: c.eventLocked,
    levels: c.levels,
    promoUses: c.promoUses,
    reservations,
    tickets,
    cancelled: c.cancelled ?? null,
    pricing: c.pricing ?? emptyPricing(),
  };
}

/** Parse a snapshot's JSON, compact (v2) or the state itself (v1). */
export function parseSnapshotJson(json: string): InventoryState {
  type V1 = Omit<InventoryState, 'cancelled' | 'pricing'> & Partial<Pick<InventoryState, 'cancelled' | 'pricing'>>;
  const value = JSON.parse(json) as CompactState | V1;
  if ('v' in value && value.v === 2) return fromCompact(value);
  const v1 = value as V1;
  return { ...v1, cancelled: v1.cancelled ?? null, pricing: v1.pricing ?? emptyPricing() };
}
