/**
 * Cancelling an event and voiding a ticket in the pure state machine: a cancel releases
 * every open hold and voids every ticket, then refuses reserve and confirm (NOT_ON_SALE)
 * and admits nobody (VOID); twice is a no-op; the journal and snapshots rebuild it.
 * Every assert.ok carries a message (see inventoryBehaviour.test.ts).
 */
import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { fromCompact, parseSnapshotJson, toCompact } from '../../actors/inventory/snapshotCodec.js';
import type { InventoryCommand } from '../../actors/inventory/model.js';
import { EVENT_ID, MIN, checkLevels, heldOf, legacyStateV1, legacyStateV2, plainState, replay, rid, run, scenarioArb, stepArb, ticketId, toCommand, typeId, Sim } from '../helpers/inventorySim.js';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

test('cancel releases every open hold, voids every ticket, then refuses reserve/confirm and admits nobody; replay agrees', (t) => {
  fc.assert(
    fc.property(scenarioArb, fc.array(stepArb, { maxLength: 30 }), (sc, after) => {
      const sim = run(sc);
      const held = heldOf(sim.state).map((r) => r.id);
      const ticketCount = sim.state.tickets.size;
      const cancel = sim.exec({ type: 'CancelEvent', reason: 'storm' });
      assert.deepEqual(cancel.events, [{ type: 'EventCancelled', reason: 'storm', at: sim.now }]);
      assert.deepEqual(cancel.reply, { ok: true, kind: 'cancelled', cancellation: { reason: 'storm', at: sim.now } });
      assert.equal(heldOf(sim.state).length, 0, 'a hold is still open');
      for (const id of held) assert.equal(sim.state.closed.get(id)?.status, 'RELEASED', `hold ${id} not released`);
      assert.equal(sim.state.tickets.size, ticketCount);
      assert.ok(sim.issuedTickets().every((x) => x.status === 'VOID'), 'a ticket is not VOID');
      for (const l of Object.values(sim.state.levels)) assert.equal(l.held, 0, 'held seats remain');
      checkLevels(sim);

      // Twice: nothing new, the first answer.
      sim.now += MIN;
      const again = sim.exec({ type: 'CancelEvent', reason: 'other' });
      assert.deepEqual(again, { events: [], reply: cancel.reply });

      // Whatever follows changes no ticket or hold.
      for (const step of after) {
        const cmd = toCommand(sim, step);
        if (!cmd) continue;
        const d = sim.exec(cmd);
        if (cmd.type === 'Reserve' || cmd.type === 'Confirm' || cmd.type === 'Quote') {
          assert.ok(!d.reply.ok && d.reply.code === 'NOT_ON_SALE', `${cmd.type} after cancel: ${JSON.stringify(d.reply)}`);
        }
        if (cmd.type === 'CheckIn') {
          assert.ok(d.reply.ok && d.reply.kind === 'checkin' && (d.reply.result === 'VOID' || d.reply.result === 'INVALID'), JSON.stringify(d.reply));
          if (sim.state.tickets.has(cmd.ticketId)) assert.equal(d.reply.result, 'VOID');
        }
        assert.ok(!d.events.some((e) => e.type === 'HoldPlaced' || e.type === 'ReservationConfirmed' || e.type === 'TicketCheckedIn'), JSON.stringify(d.events));
      }
      assert.equal(heldOf(sim.state).length, 0, 'a hold opened after the cancel');
      assert.ok(sim.issuedTickets().every((x) => x.status === 'VOID'), 'a ticket left VOID');

      // The journal from empty, and a snapshot (compact and v1), rebuild the same state.
      assert.deepEqual(plain(replay(sim.journal)), plain(sim.state));
      assert.deepEqual(plain(fromCompact(plain(toCompact(sim.state)) as ReturnType<typeof toCompact>)), plain(sim.state));
      for (const legacy of [legacyStateV1(sim), legacyStateV2(sim)]) {
        assert.deepEqual(plainState(parseSnapshotJson(JSON.stringify(legacy)), { closedAt: false }), plainState(sim.state, { closedAt: false }));
      }
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('snapshots written before cancellation existed load as not cancelled', (t) => {
  const [sc] = fc.sample(scenarioArb, { numRuns: 1, seed: 11 });
  if (!sc) throw new Error('no sample');
  const sim = run(sc);
  const { cancelled: _c, ...old } = toCompact(sim.state);
  t.is(parseSnapshotJson(JSON.stringify(old)).cancelled, null);
  const { cancelled: _d, ...v1 } = legacyStateV1(sim);
  t.is(parseSnapshotJson(JSON.stringify(v1)).cancelled, null);
  const { cancelled: _e, ...v2 } = legacyStateV2(sim);
  t.is(parseSnapshotJson(JSON.stringify(v2)).cancelled, null);
});

function confirmedSim(quantity: number): { sim: Sim; tickets: string[] } {
  const sim = new Sim({ types: [0, 1, 2].map(() => ({ capacity: 10, sold: 0, price: 1000, locked: false })), usedBefore: 0 });
  sim.exec({ type: 'SyncCatalog' });
  sim.exec({ type: 'Reserve', reservationId: rid(0), items: [{ ticketTypeId: typeId(0), quantity }], holdSeconds: 0, promoCode: null, customerId: null });
  const d = sim.exec({ type: 'Confirm', reservationId: rid(0), paymentReference: 'p' });
  assert.ok(d.reply.ok && d.reply.kind === 'reservation', JSON.stringify(d.reply));
  return { sim, tickets: d.reply.tickets.map((x) => x.id) };
}

test('VoidTicket voids one ticket (it checks in as VOID), twice is a no-op, unknown is NOT_FOUND', (t) => {
  const { sim, tickets } = confirmedSim(3);
  const [a, b] = tickets as [string, string];
  const voided = sim.exec({ type: 'VoidTicket', ticketId: a, reason: 'refund' });
  t.deepEqual(voided.events, [{ type: 'TicketVoided', ticketId: a, reason: 'refund', at: sim.now }]);
  t.like(voided.reply, { ok: true, kind: 'ticket', ticket: { id: a, status: 'VOID' } });
  const twice = sim.exec({ type: 'VoidTicket', ticketId: a, reason: 'again' });
  t.deepEqual(twice.events, []);
  t.deepEqual(twice.reply, voided.reply);
  t.like(sim.exec({ type: 'CheckIn', ticketId: a, gate: 'G1' }).reply, { ok: true, kind: 'checkin', result: 'VOID' });
  t.like(sim.exec({ type: 'CheckIn', ticketId: b, gate: 'G1' }).reply, { ok: true, kind: 'checkin', result: 'CHECKED_IN' });
  // A used ticket can be voided too; then it admits nobody.
  t.is(sim.exec({ type: 'VoidTicket', ticketId: b, reason: 'fraud' }).events.length, 1);
  t.like(sim.exec({ type: 'CheckIn', ticketId: b, gate: 'G2' }).reply, { ok: true, kind: 'checkin', result: 'VOID' });
  t.like(sim.exec({ type: 'GetTicket', ticketId: b }).reply, { ok: true, kind: 'ticket', ticket: { status: 'VOID' } });
  const unknown = sim.exec({ type: 'VoidTicket', ticketId: ticketId('nope', 0), reason: 'x' });
  t.like(unknown, { events: [], reply: { ok: false, code: 'NOT_FOUND' } });
  t.is(sim.state.levels[typeId(0)]?.sold, 3, 'a void keeps the sale on the books');
  t.deepEqual(plain(replay(sim.journal)), plain(sim.state));
});

test('a cancel decides every command after it in the same order: reserve and confirm NOT_ON_SALE, check-in VOID', (t) => {
  const { sim, tickets } = confirmedSim(2);
  sim.exec({ type: 'Reserve', reservationId: rid(1), items: [{ ticketTypeId: typeId(0), quantity: 2 }], holdSeconds: 0, promoCode: null, customerId: null });
  sim.exec({ type: 'CancelEvent', reason: 'venue closed' });
  const cmds: InventoryCommand[] = [
    { type: 'Reserve', reservationId: rid(2), items: [{ ticketTypeId: typeId(0), quantity: 1 }], holdSeconds: 0, promoCode: null, customerId: null },
    { type: 'Confirm', reservationId: rid(1), paymentReference: null },
    { type: 'Confirm', reservationId: rid(0), paymentReference: 'p' },
  ];
  for (const cmd of cmds) t.like(sim.exec(cmd), { events: [], reply: { ok: false, code: 'NOT_ON_SALE' } }, cmd.type);
  t.is(sim.state.closed.get(rid(1))?.status, 'RELEASED');
  for (const id of tickets) t.like(sim.exec({ type: 'CheckIn', ticketId: id, gate: 'G' }).reply, { result: 'VOID', ticket: { status: 'VOID' } });
  t.is(sim.state.cancelled?.reason, 'venue closed');
  t.is(sim.state.eventId, EVENT_ID);
});
