/**
 * Retries of reservations the actor no longer keeps in memory (IDEMPOTENCY_WINDOW_SECONDS,
 * docs/inventory.md), against real Postgres: once the window has passed, the actor drops
 * its records of closed reservations, and every retry (reserve, confirm, release, get,
 * apply discount) is answered from Postgres exactly as before; a reused id is still
 * refused CONFLICT. The same after a fresh activation from the journal and after recovery
 * from a snapshot.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import type { InventoryActor } from '../../actors/inventory/inventoryActor.js';
import type { ReserveInput } from '../../src/inventory/inventoryService.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { startTestService, type TestService } from '../helpers/service.js';

const WINDOW_SECONDS = 60;
const test = anyTest as TestFn<{ svc: TestService; clock: FakeClock }>;
test.before(async (t) => {
  t.context.clock = new FakeClock(Date.now());
  t.context.svc = await startTestService({ IDEMPOTENCY_WINDOW_SECONDS: String(WINDOW_SECONDS) }, undefined, { clock: t.context.clock });
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

const inv = (svc: TestService) => svc.service.inventory.service;
const actorState = (svc: TestService, eventId: string) =>
  (svc.service.inventory.registry as unknown as { cells: Map<string, { behavior: InventoryActor }> }).cells.get(eventId)?.behavior.current;

/** A call's answer: its result, or its error code and details. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (err) {
    const e = err as { code?: string; details?: unknown };
    if (!e.code) throw err;
    return { code: e.code, details: e.details };
  }
}

test('after the window, retries of confirmed, released and expired reservations get the same answers from Postgres', async (t) => {
  const { svc, clock } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 50 });
  const request = (customerId: string, holdSeconds = 600): ReserveInput => ({ reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 2 }], holdSeconds, customerId });
  const confirmed = request('c-confirmed');
  const released = request('c-released');
  const expired = request('c-expired', 5);
  for (const r of [confirmed, released, expired]) await inv(svc).reserve(event.id, r);
  const sale = await inv(svc).confirm(event.id, confirmed.reservationId, 'pay-1');
  await inv(svc).release(event.id, released.reservationId);
  await clock.advance(6_000);
  await waitFor('the short hold to expire', async () => (await inv(svc).getReservation(event.id, expired.reservationId)).reservation.status === 'EXPIRED', { timeoutMs: 30_000 });
  const ticket = sale.tickets[0]!;
  await inv(svc).checkIn(ticket.code, 'Main');

  const retries = async () => {
    const answers: unknown[] = [];
    for (const r of [confirmed, released, expired]) {
      const id = r.reservationId;
      answers.push(
        await outcome(() => inv(svc).reserve(event.id, r)),
        await outcome(() => inv(svc).confirm(event.id, id, 'pay-2')),
        await outcome(() => inv(svc).release(event.id, id)),
        await outcome(() => inv(svc).getReservation(event.id, id)),
        await outcome(() => inv(svc).applyDiscount(event.id, id, 'NOPE')),
      );
    }
    answers.push(await outcome(() => inv(svc).validate(ticket.code)));
    return answers;
  };
  const before = await retries();
  t.like(before[0], { ok: { reservation: { status: 'CONFIRMED', paymentReference: 'pay-1', customerId: 'c-confirmed' } } });
  const confirmRetry = before[1] as { ok: { tickets: { id: string; status: string; code: string }[] } };
  t.is(confirmRetry.ok.tickets.length, 2);
  t.like(confirmRetry.ok.tickets[0], { id: ticket.id, status: 'USED', code: ticket.code });
  t.like(before[2], { code: 'CONFLICT' });
  t.like(before[5], { ok: { reservation: { status: 'RELEASED' } } });
  t.like(before[6], { code: 'HOLD_EXPIRED', details: { status: 'RELEASED' } });
  t.like(before[11], { code: 'HOLD_EXPIRED', details: { status: 'EXPIRED' } });
  t.is(actorState(svc, event.id)?.closed.size, 3);

  // Past the window: the next turn drops the records; the answers come from Postgres.
  await clock.advance((WINDOW_SECONDS + 700) * 1000);
  await inv(svc).reserve(event.id, request('c-later'));
  const state = actorState(svc, event.id);
  t.is(state?.closed.has(confirmed.reservationId), false);
  t.true((state?.closed.forgotten ?? 0) >= 3);
  t.deepEqual(await retries(), before);
  const reused = await outcome(() => inv(svc).reserve(event.id, { ...confirmed, customerId: 'someone else' }));
  t.like(reused, { code: 'CONFLICT' });

  // A fresh activation replays the journal (every record again, dropped at its first turn).
  svc.service.inventory.registry.discard(event.id);
  t.deepEqual(await retries(), before);
  // Recovery from a snapshot of the pruned state: it remembers that records were dropped.
  await svc.service.inventory.registry.passivate(event.id);
  const snapshots = await svc.db.query('SELECT count(*)::int AS n FROM inventory_snapshots WHERE event_id = $1', [event.id]);
  t.is(snapshots.rows[0].n, 1);
  t.deepEqual(await retries(), before);
  t.true((actorState(svc, event.id)?.closed.forgotten ?? 0) >= 3);
  t.like(await outcome(() => inv(svc).reserve(event.id, { ...released, customerId: 'someone else' })), { code: 'CONFLICT' });
});
