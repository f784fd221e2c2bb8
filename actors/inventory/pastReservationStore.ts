/**
 * Reservations that are no longer open holds, read back from Postgres (the `reservations`
 * and `tickets` rows the turns' commits wrote, turnCommit.ts): the actor keeps only a
 * compact record of a closed hold, and none once it is older than the idempotency window
 * (pastReservations.ts says which ones a turn needs). One query for all of a turn's ids.
 */
import type { Queryable } from './store.js';
import type { LineItem, PastReservation, Reservation, ReservationStatus } from './model.js';
import { mintTicketId } from './turnRows.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Row {
  id: string;
  status: ReservationStatus;
  items: { ticket_type_id: string; quantity: number; unit_price_minor: number }[];
  currency: string;
  total_minor: string;
  discount_minor: string;
  promo_code: string | null;
  customer_id: string | null;
  expires_at: Date | null;
  payment_reference: string | null;
  request_hash: string | null;
  codes: Record<string, string> | null;
}

/** The reservations of `eventId` among `ids` (others, and ids of other events, are absent), with their tickets' codes. */
export async function loadPastReservations(db: Queryable, eventId: string, ids: readonly string[]): Promise<Map<string, PastReservation>> {
  const wanted = ids.filter((id) => UUID.test(id));
  const found = new Map<string, PastReservation>();
  if (wanted.length === 0) return found;
  const { rows } = await db.query<Row>(
    `SELECT r.id, r.status, r.items, r.currency, r.total_minor, r.discount_minor, r.promo_code, r.customer_id,
            r.expires_at, r.payment_reference, r.request_hash,
            (SELECT jsonb_object_agg(k.id, k.code) FROM tickets k WHERE k.reservation_id = r.id) AS codes
     FROM reservations r WHERE r.event_id = $1 AND r.id = ANY($2::uuid[])`,
    [eventId, wanted],
  );
  for (const row of rows) {
    const items: LineItem[] = row.items.map((i) => ({ ticketTypeId: i.ticket_type_id, quantity: i.quantity, unitPriceMinor: Number(i.unit_price_minor) }));
    const total = Number(row.total_minor);
    const discount = Number(row.discount_minor);
    // Tickets are minted deterministically from the reservation, in item order (decide.ts).
    const count = row.status === 'CONFIRMED' ? items.reduce((n, i) => n + i.quantity, 0) : 0;
    const reservation: Reservation = {
      id: row.id,
      status: row.status,
      items,
      currency: row.currency.trim(),
      subtotalMinor: total + discount,
      discountMinor: discount,
      totalMinor: total,
      promoCode: row.promo_code,
      customerId: row.customer_id,
      expiresAt: row.expires_at?.getTime() ?? 0,
      // The fingerprint itself is not stored; its hash is compared instead (`requestHash` below).
      requestHash: '',
      paymentReference: row.payment_reference,
      ticketIds: Array.from({ length: count }, (_, i) => mintTicketId(row.id, i)),
    };
    found.set(row.id, { reservation, codes: new Map(Object.entries(row.codes ?? {})), requestHash: row.request_hash });
  }
  return found;
}
