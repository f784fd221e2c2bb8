/**
 * The rows a turn writes besides its journal entries, derived from those entries, the
 * reservations they touched (collected while the actor applied them: a hold that closes
 * leaves the state's open holds) and the state after them: every reservation touched (as
 * it ends up), the tickets a confirm issued (codes are signed afterwards), check-ins
 * (online or offline), and voids (one ticket, or the whole event when it is cancelled: its
 * open holds and tickets); and the ids of issued tickets.
 *
 * One statement writes them all and every part of it sees the same snapshot, so a row
 * carries its final status in this turn (a ticket issued, checked in or voided in the same
 * turn is written once, as it ends up).
 */
import { createHash } from 'node:crypto';
import type { InventoryEvent, InventoryState, JournalEntry, PastReservation, Reservation } from './model.js';
import { closedInTurn } from './pastReservations.js';
import type { CheckInRow, IssuedTicketRow, VoidRow } from './turnCommit.js';

/**
 * The reservations a turn touches, as each ends up: call `before` with each event just
 * before evolve applies it and `after` just after. Also the body of each hold the turn
 * closes, for later commands of the same turn that name it (`DecideContext.pastReservations`).
 */
export class TurnReservations {
  /** Rows to write, by id. */
  readonly rows = new Map<string, Reservation>();
  /** Holds closed by this turn (also those its cancellation released, which the commit releases in bulk). */
  readonly closed = new Map<string, PastReservation>();

  before(state: Readonly<InventoryState>, event: InventoryEvent): void {
    const close = (r: Reservation, row: boolean) => {
      if (row) this.rows.set(r.id, r);
      this.closed.set(r.id, closedInTurn(r));
    };
    switch (event.type) {
      case 'HoldReleased':
      case 'HoldExpired': {
        const r = state.reservations[event.reservationId];
        if (r) close({ ...r, status: event.type === 'HoldReleased' ? 'RELEASED' : 'EXPIRED' }, true);
        break;
      }
      case 'ReservationConfirmed': {
        const r = state.reservations[event.reservationId];
        if (r) close({ ...r, status: 'CONFIRMED', paymentReference: event.paymentReference, ticketIds: event.tickets.map((t) => t.id) }, true);
        break;
      }
      case 'EventCancelled':
        // The commit releases the event's open holds in bulk, except those this turn writes: their rows carry it.
        if (!state.cancelled) for (const r of Object.values(state.reservations)) close({ ...r, status: 'RELEASED' }, this.rows.has(r.id));
        break;
      default:
        break;
    }
  }

  after(state: Readonly<InventoryState>, event: InventoryEvent): void {
    if (event.type === 'HoldPlaced' || event.type === 'DiscountApplied') {
      const id = event.type === 'HoldPlaced' ? event.reservation.id : event.reservationId;
      const r = state.reservations[id];
      if (r) this.rows.set(id, r);
    }
  }
}

export interface TurnRows {
  readonly reservations: Reservation[];
  readonly issued: Omit<IssuedTicketRow, 'code'>[];
  readonly checkIns: CheckInRow[];
  readonly voids: VoidRow[];
}

export function rowsOfTurn(entries: readonly JournalEntry[], state: Readonly<InventoryState>, touched: TurnReservations): TurnRows {
  const issued: Omit<IssuedTicketRow, 'code'>[] = [];
  // One row per ticket (its last check-in in the turn wins): one statement may not update a row twice.
  const checkIns = new Map<string, CheckInRow>();
  const voids: VoidRow[] = [];
  for (const { event } of entries) {
    switch (event.type) {
      case 'ReservationConfirmed': {
        const r = touched.rows.get(event.reservationId);
        if (r?.status !== 'CONFIRMED') break;
        for (const t of event.tickets) {
          const status = state.tickets.get(t.id)?.status === 'VOID' ? 'VOID' : 'VALID';
          issued.push({ id: t.id, ticketTypeId: t.ticketTypeId, reservationId: r.id, priceMinor: t.priceMinor, currency: r.currency, status });
        }
        break;
      }
      case 'TicketCheckedIn':
      case 'OfflineCheckInApplied':
        checkIns.set(event.ticketId, { ticketId: event.ticketId, at: event.at, gate: event.gate, voided: state.tickets.get(event.ticketId)?.status === 'VOID' });
        break;
      case 'TicketVoided':
        voids.push({ ticketId: event.ticketId });
        break;
      case 'EventCancelled':
        voids.push({ ticketId: null });
        break;
      default:
        break;
    }
  }
  return { reservations: [...touched.rows.values()], issued, checkIns: [...checkIns.values()], voids };
}

const DASH = 0x2d;

/** Deterministic ticket id: replaying a confirm always mints the same ids. */
export function mintTicketId(reservationId: string, index: number): string {
  const h = createHash('sha256').update(`${reservationId}:${index}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80; // version 8 (custom)
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  // Written into one buffer: one flat string (the ticket book keeps every id for the life of the event).
  const id = Buffer.allocUnsafe(36);
  id.write(h.toString('hex', 0, 4), 0, 'latin1');
  id[8] = DASH;
  id.write(h.toString('hex', 4, 6), 9, 'latin1');
  id[13] = DASH;
  id.write(h.toString('hex', 6, 8), 14, 'latin1');
  id[18] = DASH;
  id.write(h.toString('hex', 8, 10), 19, 'latin1');
  id[23] = DASH;
  id.write(h.toString('hex', 10, 16), 24, 'latin1');
  return id.toString('latin1');
}
