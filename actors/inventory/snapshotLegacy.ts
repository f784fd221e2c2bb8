/**
 * Snapshots written before the state kept its tickets and closed reservations as columns
 * (snapshotCodec.ts writes version 3): version 2 (reservations and tickets as tuples, ticket
 * type ids as dictionary indexes) and version 1 (the state's own JSON: every reservation and
 * ticket as an object). Both load into the current state: open holds stay whole, each
 * closed reservation becomes a closed record (closing time: its hold's expiry, an upper
 * bound), tickets go into the ticket book in issue order. Fields added later are optional:
 * snapshots written before them load as not cancelled and with nothing priced yet. Also the
 * hold tuple that version 3 still uses.
 */
import { ClosedReservations, requestHashBits, requestHashOf } from './closedReservations.js';
import { emptyPricing, type InventoryState, type LineItem, type Reservation, type ReservationStatus, type Ticket, type TicketStatus } from './model.js';
import { TicketBook } from './ticketBook.js';

const RESERVATION_STATUS: readonly ReservationStatus[] = ['HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED'];
const TICKET_STATUS: readonly TicketStatus[] = ['VALID', 'USED', 'VOID'];

export type HoldTuple = [
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

/** Fields every version has (later ones optional). */
interface Base {
  readonly eventId: string;
  readonly seq: number;
  readonly eventLocked: boolean;
  readonly levels: InventoryState['levels'];
  readonly promoUses: InventoryState['promoUses'];
  /** Absent in snapshots older than event cancellation (= not cancelled). */
  readonly cancelled?: InventoryState['cancelled'];
  /** Absent in snapshots older than dynamic pricing (= nothing priced yet). */
  readonly pricing?: InventoryState['pricing'];
}

export interface V2State extends Base {
  readonly v: 2;
  readonly types: string[];
  readonly reservations: HoldTuple[];
  readonly tickets: TicketTuple[];
}

export interface V1State extends Base {
  readonly reservations: Record<string, Reservation>;
  readonly tickets: Record<string, Ticket>;
}

/** Ticket type ids as indexes into a dictionary filled in first-use order. */
export function typeDictionary() {
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

export function holdTuple(r: Reservation, type: (id: string) => number): HoldTuple {
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

export function holdOf(tuple: HoldTuple, types: readonly string[], ticketIds: readonly string[] = []): Reservation {
  const [id, status, items, currency, subtotalMinor, discountMinor, totalMinor, promoCode, customerId, expiresAt, requestHash, paymentReference] = tuple;
  return {
    id,
    status: RESERVATION_STATUS[status] as ReservationStatus,
    items: items.map(([type, quantity, unitPriceMinor]): LineItem => ({ ticketTypeId: types[type] as string, quantity, unitPriceMinor })),
    currency,
    subtotalMinor,
    discountMinor,
    totalMinor,
    promoCode,
    customerId,
    expiresAt,
    requestHash,
    paymentReference,
    ticketIds,
  };
}

/** The current state from whole reservations and tickets (tickets in issue order). */
function fromRecords(base: Base, reservations: Iterable<Reservation>, tickets: readonly Ticket[]): InventoryState {
  const holds: Record<string, Reservation> = {};
  const closed = new ClosedReservations();
  const currency = new Map<string, string>();
  for (const r of reservations) {
    currency.set(r.id, r.currency);
    if (r.status === 'HELD') holds[r.id] = r;
    else closed.add(r.id, { status: r.status, closedAt: r.expiresAt, requestHash: requestHashBits(requestHashOf(r.requestHash)) });
  }
  const book = new TicketBook();
  for (let from = 0; from < tickets.length; ) {
    const reservationId = (tickets[from] as Ticket).reservationId;
    let to = from + 1;
    while (to < tickets.length && (tickets[to] as Ticket).reservationId === reservationId) to++;
    book.issue(reservationId, currency.get(reservationId) ?? '', tickets.slice(from, to));
    from = to;
  }
  for (const t of tickets) {
    if (t.checkedInAt !== null) book.checkIn(t.id, t.checkedInAt, t.gate ?? '');
    if (t.status === 'VOID') book.void(t.id);
  }
  return {
    eventId: base.eventId,
    seq: base.seq,
    eventLocked: base.eventLocked,
    levels: base.levels,
    promoUses: base.promoUses,
    reservations: holds,
    closed,
    tickets: book,
    cancelled: base.cancelled ?? null,
    pricing: base.pricing ?? emptyPricing(),
  };
}

export function fromV2(c: V2State): InventoryState {
  const typeOf = (i: number) => c.types[i] as string;
  const tickets = c.tickets.map(
    ([id, type, reservationId, priceMinor, status, checkedInAt, gate]): Ticket => ({
      id,
      ticketTypeId: typeOf(type),
      reservationId,
      priceMinor,
      status: TICKET_STATUS[status] as TicketStatus,
      checkedInAt,
      gate,
    }),
  );
  return fromRecords(c, c.reservations.map((r) => holdOf(r, c.types)), tickets);
}

export function fromV1(v1: V1State): InventoryState {
  return fromRecords(v1, Object.values(v1.reservations), Object.values(v1.tickets));
}
