/**
 * What reads see while a turn's commit is in flight: the turn has already applied its events
 * to the actor's state, yet reads answer from the values as last committed (levels, locks,
 * promo uses, each ticket the turn touched), until the commit is durable.
 */
import test from 'ava';
import { CommittedView, isReadCommand } from '../../actors/inventory/committedView.js';
import { decide } from '../../actors/inventory/decide.js';
import { evolve } from '../../actors/inventory/evolve.js';
import { emptyState, type DecideContext, type InventoryCommand, type InventoryEvent, type InventoryState, type Reservation } from '../../actors/inventory/model.js';

const TYPE = 'type-1';
const info = { id: TYPE, name: 'Standing', priceMinor: 100, currency: 'EUR', minPerPurchase: 1, maxPerPurchase: 10, validFrom: null, validUntil: null, quantity: 10, soldQuantity: 0, locked: false, hidden: false, gates: [] };
const ctx: DecideContext = { now: 1000, catalog: { eventStatus: 'active', ticketTypes: [info], promos: [] }, ticketId: (r, i) => `${r}-${i}`, defaultHoldSeconds: 600, maxHoldSeconds: 3600 };

function hold(id: string, quantity: number): Reservation {
  return { id, status: 'HELD', items: [{ ticketTypeId: TYPE, quantity, unitPriceMinor: 100 }], currency: 'EUR', subtotalMinor: 100 * quantity, discountMinor: 0, totalMinor: 100 * quantity, promoCode: null, customerId: null, expiresAt: 999_999, requestHash: '', paymentReference: null, ticketIds: [] };
}

function stateWithTicket(): InventoryState {
  const state = emptyState('event-1');
  const setup: InventoryEvent[] = [
    { type: 'TicketTypeRegistered', ticketTypeId: TYPE, capacity: 10, sold: 0, locked: false },
    { type: 'HoldPlaced', reservation: hold('r1', 1) },
    { type: 'ReservationConfirmed', reservationId: 'r1', paymentReference: null, tickets: [{ id: 't1', ticketTypeId: TYPE, priceMinor: 100 }] },
  ];
  for (const e of setup) evolve(state, e);
  return state;
}

const read = (view: CommittedView, state: InventoryState, cmd: InventoryCommand) => decide(view.stateFor(state, cmd), cmd, ctx).reply;

test('reads during an in-flight turn see the committed values; after the commit, the new ones', (t) => {
  const state = stateWithTicket();
  const view = new CommittedView();
  const turn: InventoryEvent[] = [
    { type: 'HoldPlaced', reservation: hold('r2', 3) },
    { type: 'ReservationConfirmed', reservationId: 'r2', paymentReference: null, tickets: [{ id: 't2', ticketTypeId: TYPE, priceMinor: 100 }] },
    { type: 'TicketCheckedIn', ticketId: 't1', at: 1000, gate: 'A' },
    { type: 'SalesLocked', ticketTypeId: null, locked: true, reason: null },
  ];
  view.begin(state);
  for (const e of turn) {
    view.remember(state, e);
    evolve(state, e);
  }
  // The state already shows the turn; reads do not.
  t.like(read(view, state, { type: 'GetLevels' }), { kind: 'levels', eventLocked: false, levels: [{ ticketTypeId: TYPE, sold: 1, held: 0, available: 9 }] });
  t.like(read(view, state, { type: 'GetTicket', ticketId: 't1' }), { kind: 'ticket', ticket: { status: 'VALID' }, currency: 'EUR' });
  t.like(read(view, state, { type: 'GetTicket', ticketId: 't2' }), { kind: 'ticket', ticket: null });
  const quote: InventoryCommand = { type: 'Quote', items: [{ ticketTypeId: TYPE, quantity: 9 }], promoCode: null };
  t.like(read(view, state, quote), { ok: true, kind: 'reservation', reservation: { totalMinor: 900 } }, 'quoted on committed levels, unlocked');
  t.like(state.levels[TYPE], { sold: 4, held: 0 });

  view.committed();
  t.like(read(view, state, { type: 'GetLevels' }), { eventLocked: true, levels: [{ sold: 4, available: 6 }] });
  t.like(read(view, state, { type: 'GetTicket', ticketId: 't1' }), { ticket: { status: 'USED', gate: 'A' } });
  t.like(read(view, state, { type: 'GetTicket', ticketId: 't2' }), { ticket: { status: 'VALID' } });
  t.like(read(view, state, quote), { ok: false, code: 'LOCKED' });
});

test('a cancellation in flight: every ticket still reads as it was committed', (t) => {
  const state = stateWithTicket();
  const view = new CommittedView();
  view.begin(state);
  const cancel: InventoryEvent = { type: 'EventCancelled', reason: 'rain', at: 1000 };
  view.remember(state, cancel);
  evolve(state, cancel);
  t.like(read(view, state, { type: 'GetTicket', ticketId: 't1' }), { ticket: { status: 'VALID' } });
  view.committed();
  t.like(read(view, state, { type: 'GetTicket', ticketId: 't1' }), { ticket: { status: 'VOID' } });
});

test('only levels, quotes and ticket lookups are reads; everything else takes a turn', (t) => {
  t.true(isReadCommand({ type: 'GetLevels' }));
  t.true(isReadCommand({ type: 'GetTicket', ticketId: 't' }));
  t.true(isReadCommand({ type: 'Quote', items: [], promoCode: null }));
  t.false(isReadCommand({ type: 'GetReservation', reservationId: 'r' }), 'GetReservation stays fenced: it answers idempotent retries');
  t.false(isReadCommand({ type: 'SyncCatalog' }));
  t.false(isReadCommand({ type: 'CheckIn', ticketId: 't', gate: 'A' }));
});
