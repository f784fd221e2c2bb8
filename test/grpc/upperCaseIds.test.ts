/**
 * Ids in any case name one thing: a reservation made with upper-case event and
 * reservation ids is read and confirmed with the canonical ones (and the reverse), one
 * actor serves the event, and the journal holds only lower-case ids.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

const test = anyTest as TestFn<{ svc: TestService; clients: TestClients; token: string; eventId: string; typeId: string }>;

test.before(async (t) => {
  const svc = await startTestService();
  const event = await createEvent(svc, { status: 'active' });
  const type = await createTicketType(svc, event.id, { quantity: 20 });
  t.context = { svc, clients: grpcClients(`127.0.0.1:${svc.service.grpcPort}`), token: await signToken({ roles: ['service'] }), eventId: event.id, typeId: type.id };
});

test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close();
});

const upper = (id: string) => id.toUpperCase();
const same = (id: string) => id;

for (const [title, reserveCase, readCase] of [
  ['reserved with upper-case ids, read and confirmed with the canonical ones', upper, same],
  ['reserved with canonical ids, read and confirmed with upper-case ones', same, upper],
] as const) {
  test.serial(title, async (t) => {
    const { clients, token, eventId, typeId, svc } = t.context;
    const reservationId = randomUUID();
    const reserved = await unaryCall(
      clients.ticket,
      'ReserveTickets',
      { event_id: reserveCase(eventId), reservation_id: reserveCase(reservationId), items: [{ ticket_type_id: reserveCase(typeId), quantity: 2 }], customer_id: 'c-1' },
      { token },
    );
    t.like(reserved.response.reservation, { id: reservationId, event_id: eventId, status: 'HELD' });
    t.is(reserved.response.reservation.items[0].ticket_type_id, typeId);

    const read = await unaryCall(clients.ticket, 'GetReservation', { event_id: readCase(eventId), reservation_id: readCase(reservationId) }, { token });
    t.like(read.response.reservation, { id: reservationId, status: 'HELD', customer_id: 'c-1' });

    const confirmed = await unaryCall(clients.ticket, 'ConfirmReservation', { event_id: readCase(eventId), reservation_id: readCase(reservationId), payment_reference: 'p-1' }, { token });
    t.like(confirmed.response.reservation, { id: reservationId, status: 'CONFIRMED' });
    t.is(confirmed.response.tickets.length, 2);

    // Confirming again with the other spelling is the same reservation: idempotent, the same tickets.
    const again = await unaryCall(clients.ticket, 'ConfirmReservation', { event_id: reserveCase(eventId), reservation_id: reserveCase(reservationId), payment_reference: 'p-1' }, { token });
    t.deepEqual(
      again.response.tickets.map((x: { id: string }) => x.id),
      confirmed.response.tickets.map((x: { id: string }) => x.id),
    );

    const keys = svc.service.inventory.registry.activeKeys().filter((k) => k.toLowerCase() === eventId);
    t.deepEqual(keys, [eventId], 'one actor, under the canonical id');
    const { rows } = await svc.db.query<{ payload: string }>('SELECT payload::text AS payload FROM inventory_journal WHERE event_id = $1', [eventId]);
    const mentioning = rows.filter((r) => r.payload.toLowerCase().includes(reservationId));
    t.true(mentioning.length >= 2, 'the hold and the confirmation are journalled');
    for (const row of rows) t.is(row.payload, row.payload.replace(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, (m) => (/[A-F]/.test(m) ? m.toLowerCase() : m)), 'journal ids are lower case');
    const levels = await svc.service.inventory.service.levels(eventId);
    t.is(levels.levels.length, 1, 'one ticket type, not one per spelling');
  });
}
