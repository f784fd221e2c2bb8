/**
 * Cancelling an event through its inventory actor: with reserves, confirms and check-ins in
 * flight, after the acknowledgement no hold is open, every ticket is VOID, nothing is sold
 * or admitted, and a reload from Postgres agrees. Also: a cancel only the catalog knows is
 * applied when the actor loads, ticketctl's cancel, and voiding one ticket over gRPC.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { TestService } from '../helpers/service.js';
import { createEvent, createTicketType, MISSING_ID } from '../helpers/fixtures.js';
import { grpcError, serviceWithClients, unaryCall, type ServiceWithClients } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';
import { ticketctl } from '../helpers/ticketctl.js';
import type { InventoryActor } from '../../actors/inventory/inventoryActor.js';

const test = anyTest as TestFn<ServiceWithClients>;
serviceWithClients(test);

const inv = (svc: TestService) => svc.service.inventory.service;
/** The actor's in-memory state (undefined when it is not active), as plain JSON. */
const actorState = (svc: TestService, eventId: string): unknown => {
  const cells = (svc.service.inventory.registry as unknown as { cells: Map<string, { behavior: InventoryActor }> }).cells;
  const state = cells.get(eventId)?.behavior.current;
  return state === undefined ? undefined : (JSON.parse(JSON.stringify(state)) as unknown);
};
const codeOf = (err: unknown) => (err as { code?: string }).code;

/** An event with `held` open holds and `sold` confirmed single-ticket reservations. */
async function eventWithSales(svc: TestService, held: number, sold: number) {
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 2000, max_per_purchase: 4 });
  const reserve = () => inv(svc).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  const holds = await Promise.all(Array.from({ length: held }, reserve));
  const bought = await Promise.all(Array.from({ length: sold }, async () => inv(svc).confirm(event.id, (await reserve()).reservation.id)));
  return { event, type, holds: holds.map((h) => h.reservation.id), tickets: bought.flatMap((b) => b.tickets.map((x) => x.code)), reserve };
}

async function assertCancelledInPostgres(t: { is: (a: unknown, b: unknown, m?: string) => void }, svc: TestService, eventId: string) {
  const { rows } = await svc.db.query(
    `SELECT (SELECT count(*) FROM reservations WHERE event_id = $1 AND status = 'HELD')::int AS held,
            (SELECT count(*) FROM tickets WHERE event_id = $1 AND status <> 'VOID')::int AS live,
            (SELECT count(*) FROM inventory_journal WHERE event_id = $1 AND kind = 'EventCancelled')::int AS cancels`,
    [eventId],
  );
  t.is(rows[0].held, 0, 'an open hold in Postgres');
  t.is(rows[0].live, 0, 'a ticket not VOID in Postgres');
  t.is(rows[0].cancels, 1, 'one EventCancelled in the journal');
}

test.serial('cancel with ~200 reserves, confirms and check-ins in flight: nothing open, nothing valid, nothing after the ack; a reload agrees', async (t) => {
  const { svc } = t.context;
  const { event, holds, tickets, reserve } = await eventWithSales(svc, 60, 40);
  const outcomes: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = i % 3;
    outcomes.push(
      kind === 0
        ? reserve()
        : kind === 1
          ? inv(svc).confirm(event.id, holds[i % holds.length] as string)
          : inv(svc).checkIn(tickets[i % tickets.length] as string, 'G1'),
    );
    if (i === 100) outcomes.push(svc.api('POST', `/events/${event.id}/cancel`, { body: { reason: 'storm warning' } }));
  }
  const settled = await Promise.allSettled(outcomes);
  const ackRes = await svc.api('POST', `/events/${event.id}/cancel`, { body: { reason: 'a second cancel' } });
  t.is(ackRes.status, 200);
  t.is(ackRes.body.status, 'cancelled');
  const ackAt = (await svc.db.query('SELECT clock_timestamp() AS at')).rows[0].at as Date;
  for (const s of settled) {
    if (s.status === 'rejected') t.true(['NOT_ON_SALE', 'HOLD_EXPIRED', 'BUSY'].includes(codeOf(s.reason) ?? ''), String(s.reason));
  }

  // After the acknowledgement: nothing is sold, confirmed or admitted.
  const later = await Promise.allSettled([
    ...Array.from({ length: 20 }, reserve),
    ...holds.slice(0, 10).map((id) => inv(svc).confirm(event.id, id)),
  ]);
  for (const s of later) t.is(s.status === 'rejected' ? codeOf(s.reason) : 'accepted', 'NOT_ON_SALE');
  for (const code of tickets.slice(0, 10)) {
    t.is((await inv(svc).checkIn(code, 'G2')).result, 'VOID');
    t.is((await inv(svc).validate(code)).status, 'VOID');
  }
  await assertCancelledInPostgres(t, svc, event.id);
  const late = await svc.db.query('SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND created_at > $2', [event.id, ackAt]);
  t.is(late.rows[0].n, 0, 'a reservation written after the acknowledgement');

  const live = actorState(svc, event.id);
  t.truthy(live);
  svc.service.inventory.registry.discard(event.id);
  const again = await svc.api('POST', `/events/${event.id}/cancel`, { body: { reason: 'third' } });
  t.is(again.body.cancelled_at, ackRes.body.cancelled_at, 'cancel twice: the first one stands');
  const { levels } = await inv(svc).levels(event.id);
  t.is(levels[0]?.held, 0);
  await t.throwsAsync(reserve(), { message: /cancelled/ });
  t.deepEqual(actorState(svc, event.id), live, 'the state reloaded from Postgres differs');
  await assertCancelledInPostgres(t, svc, event.id);
});

test('DELETE of an event with sales cancels it through the actor; a cancel only the catalog knows is applied when the actor loads', async (t) => {
  const { svc } = t.context;
  const first = await eventWithSales(svc, 3, 2);
  const res = await svc.api('DELETE', `/events/${first.event.id}`);
  t.is(res.status, 200);
  t.is(res.body.status, 'cancelled');
  await assertCancelledInPostgres(t, svc, first.event.id);
  t.is((await inv(svc).checkIn(first.tickets[0] as string, 'G')).result, 'VOID');

  // The catalog row cancelled, the actor never told (a pod died in between): its next load applies it.
  const second = await eventWithSales(svc, 3, 2);
  await svc.db.query(`UPDATE events SET status = 'cancelled', cancelled_at = now(), cancel_reason = 'lost message' WHERE id = $1`, [second.event.id]);
  svc.service.inventory.registry.discard(second.event.id);
  await t.throwsAsync(second.reserve(), { message: /cancelled/ });
  await assertCancelledInPostgres(t, svc, second.event.id);
  const journal = await svc.db.query(`SELECT payload FROM inventory_journal WHERE event_id = $1 AND kind = 'EventCancelled'`, [second.event.id]);
  t.is(journal.rows[0].payload.reason, 'lost message');
});

test('ticketctl events cancel: the catalog first, then every pod hears of it; it returns once the inventory applied it', async (t) => {
  const { svc } = t.context;
  const { event, tickets } = await eventWithSales(svc, 2, 2);
  const env = { DATABASE_URL: svc.database.url, DATABASE_SSL: 'false' };
  for (const args of [['--reason', 'bad\u0001reason'], ['--wait', '601']]) {
    const refused = await ticketctl(['events', 'cancel', event.id, ...args], env);
    t.is(refused.code, 1, args.join(' '));
    t.regex(refused.stderr, /--reason|--wait/);
  }
  const untouched = await svc.db.query('SELECT status, cancelled_at, cancel_reason FROM events WHERE id = $1', [event.id]);
  t.deepEqual(untouched.rows[0], { status: 'active', cancelled_at: null, cancel_reason: null }, 'refused input changed nothing');
  const run = await ticketctl(['events', 'cancel', event.id, '--reason', 'act of god', '--json'], env);
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { event_id: event.id, status: 'cancelled', reason: 'act of god' });
  await assertCancelledInPostgres(t, svc, event.id);
  t.is((await inv(svc).checkIn(tickets[0] as string, 'G')).result, 'VOID');
  const bad = await ticketctl(['events', 'cancel', 'not-a-uuid'], env);
  t.is(bad.code, 1);
  const missing = await ticketctl(['events', 'cancel', MISSING_ID, '--wait', '0'], env);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no event/);
});

test('VoidTicket over gRPC: the ticket checks in as VOID; twice is a no-op; bad input changes nothing', async (t) => {
  const { svc, clients } = t.context;
  const { event, tickets } = await eventWithSales(svc, 0, 3);
  const service = await signToken({ roles: ['service'] });
  const [code, other, third] = tickets as [string, string, string];
  const ticketId = (await inv(svc).validate(code)).ticket?.id as string;
  const call = (req: Record<string, string>, token: string | null = service) => unaryCall(clients.checkin, 'VoidTicket', req, { token });
  const ok = { event_id: event.id, ticket_id: ticketId, reason: 'refunded' };

  for (const [req, status] of [
    [{ ...ok, reason: '' }, grpc.status.INVALID_ARGUMENT],
    [{ ...ok, reason: 'x'.repeat(501) }, grpc.status.INVALID_ARGUMENT],
    [{ ...ok, reason: 'bad\u0000' }, grpc.status.INVALID_ARGUMENT],
    [{ ...ok, ticket_id: 'nope' }, grpc.status.INVALID_ARGUMENT],
    [{ ...ok, event_id: 'nope' }, grpc.status.INVALID_ARGUMENT],
    [{ ...ok, ticket_id: MISSING_ID }, grpc.status.NOT_FOUND],
  ] as const) {
    t.is((await grpcError(call(req))).code, status, JSON.stringify(req).slice(0, 80));
  }
  t.is((await grpcError(call(ok, null))).code, grpc.status.UNAUTHENTICATED);
  t.is((await grpcError(call(ok, await signToken({ roles: ['customer'] })))).code, grpc.status.PERMISSION_DENIED);
  t.is((await inv(svc).validate(code)).status, 'VALID', 'refused calls changed nothing');

  const voided = await call(ok);
  t.is(voided.response.ticket.status, 'VOID');
  const twice = await call({ ...ok, reason: 'again' });
  t.is(twice.response.ticket.status, 'VOID');
  const journal = await svc.db.query(`SELECT count(*)::int AS n FROM inventory_journal WHERE event_id = $1 AND kind = 'TicketVoided'`, [event.id]);
  t.is(journal.rows[0].n, 1);
  t.is((await svc.db.query('SELECT status FROM tickets WHERE id = $1', [ticketId])).rows[0].status, 'VOID');
  t.is((await inv(svc).checkIn(code, 'G')).result, 'VOID');
  t.is((await inv(svc).checkIn(other, 'G')).result, 'CHECKED_IN', 'the other ticket still admits');

  // An admin may void one too.
  const thirdId = (await inv(svc).validate(third)).ticket?.id as string;
  const byAdmin = await call({ ...ok, ticket_id: thirdId, reason: 'chargeback' }, svc.adminToken);
  t.is(byAdmin.response.ticket.status, 'VOID');
  t.is((await inv(svc).checkIn(third, 'G')).result, 'VOID');
});

test('POST /events/:id/cancel refuses bad input with 400 and changes nothing', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 'a\u0001b' }, { reason: 'ok', extra: 1 }, { reason: 5 }]) {
    const res = await svc.api('POST', `/events/${event.id}/cancel`, { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'VALIDATION');
  }
  t.is((await svc.api('POST', '/events/not-a-uuid/cancel', { body: { reason: 'x' } })).status, 400);
  t.is((await svc.api('POST', `/events/${MISSING_ID}/cancel`, { body: { reason: 'x' } })).status, 404);
  t.is((await svc.api('POST', `/events/${event.id}/cancel`, { body: { reason: 'x' }, token: null })).status, 401);
  const row = await svc.db.query('SELECT status, cancelled_at, cancel_reason FROM events WHERE id = $1', [event.id]);
  t.deepEqual(row.rows[0], { status: 'active', cancelled_at: null, cancel_reason: null });
});
