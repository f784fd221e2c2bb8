/**
 * Reservations that are no longer open holds, in decisions. The state keeps of a closed
 * hold only a compact record (closedReservations.ts), and none at all once it is older
 * than the idempotency window; its body (items, totals, tickets' codes) is in Postgres.
 *
 * Before a turn decides, the actor asks {@link pastReservationIds} which reservations its
 * commands name that need that body: those closed (a retry is answered with the
 * reservation as it is now) and, when the state forgot some, those it does not know (a
 * retry of a forgotten reservation, or a reused id, must not be taken for a new request).
 * It loads them in one query and passes them in `DecideContext.pastReservations`, adding
 * the body of each reservation the turn itself closes. Fresh ids while nothing was
 * forgotten need no query.
 */
import { requestHashBits, requestHashOf } from './closedReservations.js';
import type { DecideContext, DecideState, InventoryCommand, PastReservation, Refusal, Reservation, Ticket } from './model.js';

/** Commands that name a reservation a retry may ask about. */
function reservationIdOf(cmd: InventoryCommand): string | undefined {
  switch (cmd.type) {
    case 'Reserve':
    case 'Confirm':
    case 'Release':
    case 'GetReservation':
    case 'ApplyDiscount':
      return cmd.reservationId;
    default:
      return undefined;
  }
}

/** The reservations named by `commands` whose bodies must be loaded before they are decided. */
export function pastReservationIds(state: Pick<DecideState, 'reservations' | 'closed'>, commands: readonly InventoryCommand[]): string[] {
  const ids = new Set<string>();
  const forgotten = state.closed.forgotten > 0;
  for (const cmd of commands) {
    const id = reservationIdOf(cmd);
    if (id === undefined || id === '' || state.reservations[id]) continue;
    if (forgotten || state.closed.has(id)) ids.add(id);
  }
  return [...ids];
}

/** A reservation that is not an open hold, as decisions answer with it. */
export interface Past {
  readonly reservation: Reservation;
  readonly tickets: Ticket[];
  /** Whether a reserve request with this fingerprint is the one that made it. */
  sameRequest(fingerprint: string): boolean;
}

/**
 * The closed or forgotten reservation `id`, or undefined when there is none (a new id).
 * Its status is the state's when the state still has its record; its tickets are the
 * ticket book's (current status) with their codes from Postgres. A record without a row
 * of this event is refused: its id is another event's reservation in Postgres (a commit
 * never overwrites that row), so this event has no body to answer with.
 */
export function pastReservation(state: DecideState, id: string, ctx: Pick<DecideContext, 'pastReservations'>): Past | Refusal | undefined {
  const closed = state.closed.get(id);
  const past = ctx.pastReservations?.get(id);
  if (!past) {
    if (!closed) return undefined;
    return { ok: false, code: 'CONFLICT', message: `reservation id ${id} belongs to another event`, details: { reservation_id: id } };
  }
  const reservation: Reservation = closed && closed.status !== past.reservation.status ? { ...past.reservation, status: closed.status } : past.reservation;
  const tickets = reservation.ticketIds
    .map((tid) => {
      const t = state.tickets.get(tid);
      const code = past.codes.get(tid);
      return t && code !== undefined ? { ...t, code } : t;
    })
    .filter((t): t is Ticket => t !== undefined);
  return {
    reservation,
    tickets,
    sameRequest: (fingerprint) => {
      const hash = requestHashOf(fingerprint);
      if (closed) return requestHashBits(hash) === closed.requestHash;
      return past.requestHash === null || past.requestHash === hash;
    },
  };
}

/**
 * The body a turn keeps of a reservation it closes, for later commands of the same turn (no
 * codes yet), as Postgres will have it: the fingerprint only as its hash.
 */
export function closedInTurn(reservation: Reservation): PastReservation {
  return { reservation: { ...reservation, requestHash: '' }, codes: new Map(), requestHash: requestHashOf(reservation.requestHash) };
}
