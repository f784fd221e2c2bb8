/**
 * Closed reservations in decisions, in the pure state machine: a retry naming a closed
 * reservation is answered from its stored body (as the actor loads it from Postgres), the
 * same before its record is dropped from the state, after, and after a snapshot round trip
 * of the pruned state; a reused id of a forgotten reservation is refused CONFLICT; and a
 * turn of fresh ids while nothing was forgotten needs no load at all.
 */
import test from 'ava';
import fc from 'fast-check';
import { decide } from '../../actors/inventory/decide.js';
import type { DecideState, InventoryCommand, InventoryState, ReserveCommand } from '../../actors/inventory/model.js';
import { pastReservationIds } from '../../actors/inventory/pastReservations.js';
import { fromCompact, toCompact } from '../../actors/inventory/snapshotCodec.js';
import { CAPPED, reservationsOf, rid, run, scenarioArb, typeId, Sim } from '../helpers/inventorySim.js';

/** Every command a client may retry about reservation `id` (its first reserve request, and a different one). */
function retriesOf(sim: Sim, id: string): InventoryCommand[] {
  const first = sim.reserves.find((c) => c.reservationId === id);
  const cmds: InventoryCommand[] = [
    { type: 'GetReservation', reservationId: id },
    { type: 'Confirm', reservationId: id, paymentReference: 'retry' },
    { type: 'Release', reservationId: id },
    { type: 'ApplyDiscount', reservationId: id, promoCode: CAPPED },
  ];
  if (first) cmds.push(first, { ...first, customerId: first.customerId === 'other' ? null : 'other' } satisfies ReserveCommand);
  return cmds;
}

/** Decide `cmd` against `state` as the actor would: loading only what pastReservationIds lists, from the stored rows. */
function answer(sim: Sim, state: InventoryState, cmd: InventoryCommand) {
  const load = new Set(pastReservationIds(state, [cmd]));
  const ctx = { ...sim.ctx(), pastReservations: { get: (id: string) => (load.has(id) ? sim.stored.get(id) : undefined) } };
  return decide(state as DecideState, cmd, ctx);
}

test('retries of closed reservations are answered the same before their records are dropped, after, and after a snapshot of the pruned state', (t) => {
  let compared = 0;
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const sim = run(sc);
      const closed = reservationsOf(sim).filter((r) => r.status !== 'HELD').map((r) => r.id);
      const cmds = closed.flatMap((id) => retriesOf(sim, id));
      const before = cmds.map((cmd) => answer(sim, sim.state, cmd));
      t.is(sim.state.closed.prune(Infinity), closed.length);
      t.is(sim.state.closed.size, 0);
      const after = cmds.map((cmd) => answer(sim, sim.state, cmd));
      t.deepEqual(after, before);
      const recovered = fromCompact(JSON.parse(JSON.stringify(toCompact(sim.state))) as ReturnType<typeof toCompact>);
      t.is(recovered.closed.forgotten, closed.length, 'a snapshot remembers that records were dropped');
      t.deepEqual(cmds.map((cmd) => answer(sim, recovered, cmd)), before);
      compared += cmds.length;
    }),
    { numRuns: 150 },
  );
  t.true(compared > 100, `only ${compared} retries compared`);
});

test('a forgotten reservation: its retry gets the reservation as it is, a reused id CONFLICT, a confirm its tickets', (t) => {
  const sim = new Sim({ types: [0, 1, 2].map(() => ({ capacity: 10, sold: 0, price: 1000, locked: false })), usedBefore: 0 });
  sim.exec({ type: 'SyncCatalog' });
  const reserve: ReserveCommand = { type: 'Reserve', reservationId: rid(1), items: [{ ticketTypeId: typeId(0), quantity: 2 }], holdSeconds: 0, promoCode: null, customerId: 'c1' };
  sim.exec(reserve);
  const confirmed = sim.exec({ type: 'Confirm', reservationId: rid(1), paymentReference: 'pay' });
  if (!confirmed.reply.ok || confirmed.reply.kind !== 'reservation') throw new Error(JSON.stringify(confirmed.reply));
  sim.exec({ type: 'Reserve', reservationId: rid(2), items: [{ ticketTypeId: typeId(0), quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null });
  sim.exec({ type: 'Release', reservationId: rid(2) });
  sim.now += 2 * 86_400_000;
  t.is(sim.prune(86_400_000), 2);
  t.deepEqual(pastReservationIds(sim.state, [reserve]), [rid(1)], 'an unknown id is looked up once records were dropped');

  const retry = sim.exec(reserve);
  t.deepEqual(retry.events, []);
  t.like(retry.reply, { ok: true, kind: 'reservation', reservation: { id: rid(1), status: 'CONFIRMED', paymentReference: 'pay', customerId: 'c1', totalMinor: 2000 } });
  t.like(sim.exec({ ...reserve, customerId: 'someone else' }), { events: [], reply: { ok: false, code: 'CONFLICT' } });
  const again = sim.exec({ type: 'Confirm', reservationId: rid(1), paymentReference: 'pay' });
  t.like(again, { events: [], reply: { ok: true, kind: 'reservation', reservation: { status: 'CONFIRMED' } } });
  if (!again.reply.ok || again.reply.kind !== 'reservation') throw new Error('not a reservation');
  t.deepEqual(again.reply.tickets, confirmed.reply.tickets);
  t.like(sim.exec({ type: 'Release', reservationId: rid(1) }), { events: [], reply: { ok: false, code: 'CONFLICT' } });
  t.like(sim.exec({ type: 'Release', reservationId: rid(2) }), { events: [], reply: { ok: true, reservation: { status: 'RELEASED' } } });
  t.like(sim.exec({ type: 'Confirm', reservationId: rid(2), paymentReference: null }), { events: [], reply: { ok: false, code: 'HOLD_EXPIRED', details: { status: 'RELEASED' } } });
  t.like(sim.exec({ type: 'ApplyDiscount', reservationId: rid(2), promoCode: CAPPED }), { events: [], reply: { ok: false, code: 'HOLD_EXPIRED', details: { status: 'RELEASED' } } });
  t.like(sim.exec({ type: 'GetReservation', reservationId: rid(3) }), { reply: { ok: false, code: 'NOT_FOUND' } });
  // A fresh id after the window is a new reservation.
  t.like(sim.exec({ ...reserve, reservationId: rid(4) }), { reply: { ok: true, reservation: { status: 'HELD' } } });
});

test('a row written before request hashes were stored (NULL) counts as the same request', (t) => {
  const sim = new Sim({ types: [0, 1, 2].map(() => ({ capacity: 10, sold: 0, price: 1000, locked: false })), usedBefore: 0 });
  sim.exec({ type: 'SyncCatalog' });
  const reserve: ReserveCommand = { type: 'Reserve', reservationId: rid(1), items: [{ ticketTypeId: typeId(0), quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null };
  sim.exec(reserve);
  sim.exec({ type: 'Release', reservationId: rid(1) });
  sim.state.closed.prune(Infinity);
  const stored = sim.stored.get(rid(1));
  if (!stored) throw new Error('not stored');
  sim.stored.set(rid(1), { ...stored, requestHash: null });
  t.like(sim.exec({ ...reserve, customerId: 'anyone' }), { events: [], reply: { ok: true, reservation: { id: rid(1), status: 'RELEASED' } } });
});

test('a closed reservation with no row of this event (its id is another event\'s in Postgres) is refused CONFLICT, not taken for new', (t) => {
  const sim = new Sim({ types: [0, 1, 2].map(() => ({ capacity: 10, sold: 0, price: 1000, locked: false })), usedBefore: 0 });
  sim.exec({ type: 'SyncCatalog' });
  const reserve: ReserveCommand = { type: 'Reserve', reservationId: rid(1), items: [{ ticketTypeId: typeId(0), quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null };
  sim.exec(reserve);
  sim.exec({ type: 'Release', reservationId: rid(1) });
  sim.stored.delete(rid(1));
  for (const cmd of retriesOf(sim, rid(1))) t.like(sim.exec(cmd), { events: [], reply: { ok: false, code: 'CONFLICT' } }, cmd.type);
});

test('fresh ids while nothing was forgotten need no load; closed ids do', (t) => {
  const sim = new Sim({ types: [0, 1, 2].map(() => ({ capacity: 10, sold: 0, price: 1000, locked: false })), usedBefore: 0 });
  sim.exec({ type: 'SyncCatalog' });
  const reserve = (n: number): ReserveCommand => ({ type: 'Reserve', reservationId: rid(n), items: [{ ticketTypeId: typeId(0), quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null });
  sim.exec(reserve(1));
  sim.exec({ type: 'Confirm', reservationId: rid(1), paymentReference: null });
  sim.exec(reserve(2));
  const fresh: InventoryCommand[] = [reserve(3), { type: 'Confirm', reservationId: rid(2), paymentReference: null }, { type: 'GetReservation', reservationId: rid(4) }, { type: 'GetLevels' }];
  t.deepEqual(pastReservationIds(sim.state, fresh), []);
  t.deepEqual(pastReservationIds(sim.state, [...fresh, { type: 'Release', reservationId: rid(1) }]), [rid(1)]);
});
