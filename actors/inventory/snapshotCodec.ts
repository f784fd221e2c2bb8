/**
 * Snapshot encoding. Recovery time is dominated by parsing the snapshot, so the state is
 * stored compactly: reservations and tickets as tuples instead of keyed objects, ticket
 * type ids as indexes into a dictionary, and each reservation's ticket ids rebuilt from the
 * tickets (which are kept in issue order). Version 2; gzip around it. The state's own JSON
 * (version 1: `{eventId, seq, ...}`) is still read, so older snapshots recover.
 */
import type { InventoryState, LineItem, Reservation, ReservationStatus, Ticket, TicketStatus } from './model.js';

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
  readonly types: string[];
  readonly reservations: ReservationTuple[];
  readonly tickets: TicketTuple[];
}

export function toCompact(state: InventoryState): CompactState {
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
  return {
    v: 2,
    eventId: state.eventId,
    seq: state.seq,
    eventLocked: state.eventLocked,
    levels: state.levels,
    promoUses: state.promoUses,
    types,
    reservations: Object.values(state.reservations).map((r) => [
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
    ]),
    tickets: Object.values(state.tickets).map((t) => [
      t.id,
      type(t.ticketTypeId),
      t.reservationId,
      t.priceMinor,
      TICKET_STATUS.indexOf(t.status),
      t.checkedInAt,
      t.gate,
    ]),
  };
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
  return { eventId: c.eventId, seq: c.seq, eventLocked: c.eventLocked, levels: c.levels, promoUses: c.promoUses, reservations, tickets };
}

/** Parse a snapshot's JSON, compact (v2) or the state itself (v1). */
export function parseSnapshotJson(json: string): InventoryState {
  const value = JSON.parse(json) as CompactState | InventoryState;
  return 'v' in value && value.v === 2 ? fromCompact(value) : (value as InventoryState);
}
