/**
 * Property tests of the inventory state machine: idempotency, replay, purity, check-in and
 * replies over random command sequences.
 * Every assert.ok carries a message: without one, node's assert re-reads and parses the
 * source to build one, which under the tsx loader can take minutes.
 */
import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { decide } from '../../actors/inventory/decide.js';
import { emptyState, type Reservation, type ReserveCommand, type Ticket } from '../../actors/inventory/model.js';
import { fromCompact, toCompact } from '../../actors/inventory/snapshotCodec.js';
import { EVENT_ID, MIN, RUNS, T0, cloneState, deepFreeze, plainState, replay, reservationsOf, rid, run, samePayload, scenarioArb, ticketId, typeId, Sim } from '../helpers/inventorySim.js';

/** A reservation without its request fingerprint (a closed one is answered from its stored body, which keeps only its hash). */
const body = (r: Reservation | undefined) => r && (({ requestHash: _h, ...rest }) => rest)(r);


test('3. idempotency: same reserve id + payload returns the same reservation, other payload → CONFLICT, confirm twice → same tickets', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      /** The command that created each reservation, and the tickets its first confirm issued. */
      const origin = new Map<string, ReserveCommand>();
      const confirmedTickets = new Map<string, readonly Ticket[]>();
      run(sc, {
        step: ({ cmd, decision, before, sim }) => {
          if (cmd.type === 'Reserve') {
            const existing = reservationsOf(sim, before).find((r) => r.id === cmd.reservationId);
            if (existing) {
              assert.deepEqual(decision.events, [], 'a reserve on a known id emitted events');
              const first = origin.get(cmd.reservationId) as ReserveCommand;
              if (samePayload(cmd, first)) {
                assert.ok(decision.reply.ok && decision.reply.kind === 'reservation', JSON.stringify(decision.reply));
                assert.deepEqual(body(decision.reply.reservation), body(existing));
              } else {
                assert.ok(!decision.reply.ok && decision.reply.code === 'CONFLICT', JSON.stringify(decision.reply));
              }
            } else if (decision.events.length > 0) {
              assert.ok(decision.reply.ok && decision.reply.kind === 'reservation', JSON.stringify(decision.reply));
              origin.set(cmd.reservationId, cmd);
              // An immediate retry (e.g. the reply was lost) with the same payload, and a
              // semantically equal one (items reordered, promo in another case).
              const placed = decision.reply.reservation;
              const variant: ReserveCommand = { ...cmd, items: [...cmd.items].reverse(), promoCode: cmd.promoCode?.toLowerCase() ?? null };
              for (const retry of [cmd, variant]) {
                const d = sim.exec(retry);
                assert.deepEqual(d.events, []);
                assert.ok(d.reply.ok && d.reply.kind === 'reservation', `retry: ${JSON.stringify(d.reply)}`);
                assert.deepEqual(d.reply.reservation, placed);
              }
              const other: ReserveCommand = { ...cmd, customerId: cmd.customerId === 'other' ? null : 'other' };
              const conflict = sim.exec(other);
              assert.deepEqual(conflict.events, []);
              assert.ok(!conflict.reply.ok && conflict.reply.code === 'CONFLICT', `other payload: ${JSON.stringify(conflict.reply)}`);
            }
          }
          if (cmd.type === 'Confirm' && decision.reply.ok && decision.reply.kind === 'reservation') {
            const tickets = decision.reply.tickets;
            const ids = tickets.map((x) => x.id);
            assert.deepEqual(decision.reply.reservation.ticketIds, ids);
            const earlier = confirmedTickets.get(cmd.reservationId);
            if (earlier) {
              assert.deepEqual(decision.events, [], 'a second confirm emitted events');
              assert.deepEqual(ids, earlier.map((x) => x.id));
              assert.deepEqual(tickets.map(({ status: _s, checkedInAt: _c, gate: _g, ...rest }) => rest), earlier.map(({ status: _s, checkedInAt: _c, gate: _g, ...rest }) => rest));
            } else {
              assert.equal(decision.events.length, 1);
              confirmedTickets.set(cmd.reservationId, tickets);
              const again = sim.exec({ ...cmd, paymentReference: 'a-retry' });
              assert.deepEqual(again.events, []);
              assert.ok(again.reply.ok && again.reply.kind === 'reservation', `second confirm: ${JSON.stringify(again.reply)}`);
              assert.deepEqual(again.reply.tickets, tickets);
              assert.deepEqual(body(again.reply.reservation), body(decision.reply.reservation));
            }
          }
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('6. replay: the journal from an empty state, or a JSON snapshot plus the later events, rebuilds the live state exactly', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      let snapshot: string | undefined;
      let snapshotSeq = 0;
      const at = sc.snapshotAt % sc.steps.length;
      run(sc, {
        step: ({ index, sim }) => {
          if (index === at) {
            snapshot = JSON.stringify(toCompact(sim.state));
            snapshotSeq = sim.journal.length;
          }
        },
        end: (sim) => {
          assert.equal(sim.state.seq, sim.journal.length);
          assert.deepStrictEqual(plainState(replay(sim.journal)), plainState(sim.state));
          const from = snapshot === undefined ? emptyState(EVENT_ID) : fromCompact(JSON.parse(snapshot) as ReturnType<typeof toCompact>);
          assert.equal(from.seq, snapshot === undefined ? 0 : snapshotSeq);
          assert.deepStrictEqual(plainState(replay(sim.journal.slice(from.seq), from)), plainState(sim.state));
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('7. decide never mutates its input state, and decides the same on a deep-frozen copy', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, {
        afterDecide: (sim, cmd, ctx, before, decision) => {
          assert.deepStrictEqual(plainState(sim.state), plainState(before), `decide(${cmd.type}) mutated the state`);
          const frozen = deepFreeze(cloneState(before));
          const again = decide(frozen, cmd, ctx);
          assert.deepStrictEqual(again, decision, `decide(${cmd.type}) is not deterministic`);
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('8. check-in: the first scan wins, later scans learn when and where; unknown ids are INVALID', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const first = new Map<string, { at: number; gate: string }>();
      run(sc, {
        step: ({ cmd, decision, before, ctx, sim }) => {
          if (cmd.type === 'CheckIn') {
            const r = decision.reply;
            assert.ok(r.ok && r.kind === 'checkin', JSON.stringify(r));
            const seen = first.get(cmd.ticketId);
            if (!before.tickets.has(cmd.ticketId)) {
              assert.equal(r.result, 'INVALID');
              assert.deepEqual(decision.events, []);
            } else if (!seen) {
              assert.equal(r.result, 'CHECKED_IN');
              assert.deepEqual(decision.events, [{ type: 'TicketCheckedIn', ticketId: cmd.ticketId, at: ctx.now, gate: cmd.gate }]);
              first.set(cmd.ticketId, { at: ctx.now, gate: cmd.gate });
            } else {
              assert.equal(r.result, 'ALREADY_USED');
              assert.deepEqual(decision.events, []);
              assert.equal(r.firstCheckedInAt, seen.at);
              assert.equal(r.firstGate, seen.gate);
            }
          }
          for (const ticket of sim.issuedTickets()) {
            const seen = first.get(ticket.id);
            assert.deepEqual([ticket.status, ticket.checkedInAt, ticket.gate], seen ? ['USED', seen.at, seen.gate] : ['VALID', null, null]);
          }
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('8b. check-in: a ticket scanned N times at random gates and times is CHECKED_IN exactly once', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ gate: fc.constantFrom('G1', 'G2', 'G3', 'G4'), after: fc.integer({ min: 0, max: 10 * MIN }) }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 4 }),
      (scans, quantity) => {
        const sim = new Sim({ types: [{ capacity: 10, sold: 0, price: 1000, locked: false }, { capacity: 10, sold: 0, price: 1000, locked: false }, { capacity: 10, sold: 0, price: 1000, locked: false }], usedBefore: 0 });
        sim.exec({ type: 'SyncCatalog' });
        sim.exec({ type: 'Reserve', reservationId: rid(0), items: [{ ticketTypeId: typeId(0), quantity }], holdSeconds: 0, promoCode: null, customerId: null });
        const confirmed = sim.exec({ type: 'Confirm', reservationId: rid(0), paymentReference: 'p' });
        assert.ok(confirmed.reply.ok && confirmed.reply.kind === 'reservation', JSON.stringify(confirmed.reply));
        const ticket = confirmed.reply.tickets[quantity - 1] as Ticket;
        const results = scans.map((s) => {
          sim.now += s.after;
          const d = sim.exec({ type: 'CheckIn', ticketId: ticket.id, gate: s.gate });
          assert.ok(d.reply.ok && d.reply.kind === 'checkin', JSON.stringify(d.reply));
          return { result: d.reply.result, at: d.reply.firstCheckedInAt, gate: d.reply.firstGate, events: d.events.length };
        });
        const firstAt = T0 + (scans[0]?.after ?? 0);
        assert.deepEqual(results[0], { result: 'CHECKED_IN', at: firstAt, gate: scans[0]?.gate, events: 1 });
        for (const r of results.slice(1)) assert.deepEqual(r, { result: 'ALREADY_USED', at: firstAt, gate: scans[0]?.gate, events: 0 });
        const unknown = sim.exec({ type: 'CheckIn', ticketId: ticketId(rid(0), quantity), gate: 'G1' });
        assert.deepEqual(unknown, { events: [], reply: { ok: true, kind: 'checkin', result: 'INVALID', ticket: null, firstCheckedInAt: null, firstGate: null } });
        assert.equal(sim.journal.filter((e) => e.type === 'TicketCheckedIn').length, 1);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('10. replies describe the state after their events', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, {
        step: ({ cmd, decision, sim, before, ctx }) => {
          const r = decision.reply;
          if (cmd.type === 'Quote') {
            // A quote is a Reserve that holds nothing: same verdict, same prices.
            assert.deepEqual(decision.events, [], 'Quote emitted events');
            const probe = decide(before, { ...cmd, type: 'Reserve', reservationId: 'quote-probe', holdSeconds: 0, customerId: null }, ctx).reply;
            const verdict = (x: typeof r) =>
              x.ok && x.kind === 'reservation'
                ? (({ id: _i, requestHash: _h, expiresAt: _e, ...rest }) => rest)(x.reservation)
                : x.ok
                  ? x.kind
                  : x.code;
            assert.deepEqual(verdict(r), verdict(probe), 'Quote and Reserve disagree');
            return;
          }
          if (!r.ok) return;
          const s = sim.state;
          if (r.kind === 'reservation') {
            const now = reservationsOf(sim).find((x) => x.id === r.reservation.id);
            assert.deepStrictEqual(body(r.reservation), body(now), `${cmd.type} reply vs state`);
            assert.deepStrictEqual(r.tickets, r.reservation.ticketIds.map((id) => s.tickets.get(id)));
          } else if (r.kind === 'levels') {
            assert.equal(r.eventLocked, s.eventLocked);
            assert.equal(r.levels.length, Object.keys(s.levels).length);
            for (const v of r.levels) {
              const l = s.levels[v.ticketTypeId];
              assert.deepEqual(v, l && { ticketTypeId: v.ticketTypeId, ...l, available: l.capacity - l.sold - l.held });
            }
          } else if (r.kind === 'checkin') {
            if (r.ticket) assert.deepStrictEqual(r.ticket, s.tickets.get(r.ticket.id));
          } else if (r.kind === 'ticket' && cmd.type === 'GetTicket') {
            assert.deepStrictEqual(r.ticket, s.tickets.get(cmd.ticketId) ?? null);
          }
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

