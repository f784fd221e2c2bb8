/**
 * Check-in in the pure state machine: gates (WRONG_GATE leaves the ticket unused), offline
 * uploads (the first scan by scan time wins, also over a later online check-in; conflicts
 * reported per scan; a re-sent upload appends nothing), the facts an offline bundle carries,
 * and the rows a turn writes (one per ticket). The journal rebuilds every state.
 */
import test from 'ava';
import { decide } from '../../actors/inventory/decide.js';
import { evolve } from '../../actors/inventory/evolve.js';
import { emptyState, type CatalogInfo, type Decision, type InventoryCommand, type InventoryEvent, type InventoryState } from '../../actors/inventory/model.js';
import { fromCompact, toCompact } from '../../actors/inventory/snapshotCodec.js';
import { rowsOfTurn, TurnReservations } from '../../actors/inventory/turnRows.js';
import { parseInventoryCommand } from '../../actors/inventory/commandSchema.js';
import { ticketId } from '../helpers/inventoryWorld.js';

const EVENT = '6f1c2d3e-0000-4000-8000-00000000c001';
const GATED = '0d000000-0000-4000-8000-00000000c0a1';
const ANY = '0d000000-0000-4000-8000-00000000c0a2';
const T0 = Date.UTC(2030, 5, 1, 18, 0, 0);
const MIN = 60_000;

const catalog: CatalogInfo = {
  eventStatus: 'active',
  promos: [],
  ticketTypes: [
    { id: GATED, name: 'Stalls', priceMinor: 5000, currency: 'EUR', minPerPurchase: 1, maxPerPurchase: 10, validFrom: null, validUntil: null, quantity: 50, soldQuantity: 0, locked: false, hidden: false, gates: ['North', 'East'] },
    { id: ANY, name: 'Standing', priceMinor: 3000, currency: 'EUR', minPerPurchase: 1, maxPerPurchase: 10, validFrom: null, validUntil: null, quantity: 50, soldQuantity: 0, locked: false, hidden: false, gates: [] },
  ],
};

class World {
  readonly state: InventoryState = emptyState(EVENT);
  readonly journal: InventoryEvent[] = [];
  now = T0;

  exec(cmd: InventoryCommand): Decision {
    const parsed = parseInventoryCommand(cmd);
    if (!parsed.ok) throw new Error(parsed.message);
    const d = decide(this.state, parsed.command, { now: this.now, catalog, ticketId, defaultHoldSeconds: 600, maxHoldSeconds: 3600 });
    for (const e of d.events) {
      this.state.seq += 1;
      evolve(this.state, e);
      this.journal.push(e);
    }
    return d;
  }

  /** Sell `n` tickets of a type; their ids. */
  sell(type: string, n: number, reservationId: string): string[] {
    this.exec({ type: 'Reserve', reservationId, items: [{ ticketTypeId: type, quantity: n }], holdSeconds: 0, promoCode: null, customerId: null });
    const d = this.exec({ type: 'Confirm', reservationId, paymentReference: 'pay' });
    if (!d.reply.ok || d.reply.kind !== 'reservation') throw new Error(JSON.stringify(d.reply));
    return d.reply.tickets.map((t) => t.id);
  }

  rebuilt(): InventoryState {
    const s = emptyState(EVENT);
    for (const e of this.journal) {
      s.seq += 1;
      evolve(s, e);
    }
    return s;
  }
}

function world(): World {
  const w = new World();
  w.exec({ type: 'SyncCatalog' });
  return w;
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
const rid = (n: number) => `5e000000-0000-4000-8000-0000000c000${n}`;

function results(d: Decision) {
  if (!d.reply.ok || d.reply.kind !== 'offlineScans') throw new Error(JSON.stringify(d.reply));
  return d.reply.results;
}

test('a ticket type with gates admits at those gates only: WRONG_GATE elsewhere leaves the ticket unused', (t) => {
  const w = world();
  const [gated] = w.sell(GATED, 1, rid(1)) as [string];
  const [open] = w.sell(ANY, 1, rid(2)) as [string];

  const wrong = w.exec({ type: 'CheckIn', ticketId: gated, gate: 'South' });
  t.deepEqual(wrong.events, []);
  t.like(wrong.reply, { ok: true, kind: 'checkin', result: 'WRONG_GATE', firstCheckedInAt: null, firstGate: null });
  t.is(w.state.tickets.get(gated)?.status, 'VALID');
  // Gate names match exactly.
  t.like(w.exec({ type: 'CheckIn', ticketId: gated, gate: 'north' }).reply, { result: 'WRONG_GATE' });

  const right = w.exec({ type: 'CheckIn', ticketId: gated, gate: 'East' });
  t.like(right.reply, { result: 'CHECKED_IN', firstCheckedInAt: T0, firstGate: 'East' });
  t.like(w.state.tickets.get(gated), { status: 'USED', gate: 'East', checkedInAt: T0 });
  // Already used: a scan anywhere learns when and where, gate or not.
  t.like(w.exec({ type: 'CheckIn', ticketId: gated, gate: 'South' }).reply, { result: 'ALREADY_USED', firstGate: 'East' });

  t.like(w.exec({ type: 'CheckIn', ticketId: open, gate: 'Any door at all' }).reply, { result: 'CHECKED_IN' });
  // VOID comes before the gate.
  const [voided] = w.sell(GATED, 1, rid(3)) as [string];
  w.exec({ type: 'VoidTicket', ticketId: voided, reason: 'refund' });
  t.like(w.exec({ type: 'CheckIn', ticketId: voided, gate: 'South' }).reply, { result: 'VOID' });
  t.deepEqual(plain(w.rebuilt()), plain(w.state));
});

test('offline upload: the first scan by scan time wins, the other is a conflict; re-sending it appends nothing', (t) => {
  const w = world();
  const [a, b] = w.sell(ANY, 2, rid(1)) as [string, string];
  w.now = T0 + 30 * MIN;
  const scans = [
    { ticketId: a, gate: 'West', scannedAt: T0 + 12 * MIN },
    { ticketId: a, gate: 'North', scannedAt: T0 + 10 * MIN }, // earlier, listed later: it wins
    { ticketId: b, gate: 'West', scannedAt: T0 + 11 * MIN },
  ];
  const first = w.exec({ type: 'SyncCheckins', scans });
  t.deepEqual(first.events, [
    { type: 'OfflineCheckInApplied', ticketId: a, at: T0 + 10 * MIN, gate: 'North' },
    { type: 'OfflineCheckInApplied', ticketId: b, at: T0 + 11 * MIN, gate: 'West' },
  ]);
  t.deepEqual(results(first), [
    { result: 'ALREADY_USED', conflict: true, checkedInAt: T0 + 10 * MIN, gate: 'North' },
    { result: 'CHECKED_IN', conflict: false, checkedInAt: T0 + 10 * MIN, gate: 'North' },
    { result: 'CHECKED_IN', conflict: false, checkedInAt: T0 + 11 * MIN, gate: 'West' },
  ]);
  t.like(w.state.tickets.get(a), { status: 'USED', checkedInAt: T0 + 10 * MIN, gate: 'North' });
  const before = plain(w.state);
  const seq = w.state.seq;

  const again = w.exec({ type: 'SyncCheckins', scans });
  t.deepEqual(again.events, []);
  t.deepEqual(results(again), results(first));
  t.is(w.state.seq, seq);
  t.deepEqual(plain(w.state), before);
  // Online, afterwards: the offline check-in stands.
  t.like(w.exec({ type: 'CheckIn', ticketId: b, gate: 'West' }).reply, { result: 'ALREADY_USED', firstCheckedInAt: T0 + 11 * MIN, firstGate: 'West' });
  t.deepEqual(plain(w.rebuilt()), plain(w.state));
});

test('offline upload against an online check-in: an earlier offline scan takes its place, a later one is the conflict', (t) => {
  const w = world();
  const [a, b] = w.sell(ANY, 2, rid(1)) as [string, string];
  w.now = T0 + 20 * MIN;
  w.exec({ type: 'CheckIn', ticketId: a, gate: 'Main' });
  w.exec({ type: 'CheckIn', ticketId: b, gate: 'Main' });
  const d = w.exec({
    type: 'SyncCheckins',
    scans: [
      { ticketId: a, gate: 'Side', scannedAt: T0 + 15 * MIN }, // before the online scan: first scan wins
      { ticketId: b, gate: 'Side', scannedAt: T0 + 25 * MIN }, // after it: a conflict
    ],
  });
  t.deepEqual(results(d), [
    { result: 'CHECKED_IN', conflict: true, checkedInAt: T0 + 15 * MIN, gate: 'Side' },
    { result: 'ALREADY_USED', conflict: true, checkedInAt: T0 + 20 * MIN, gate: 'Main' },
  ]);
  t.like(w.state.tickets.get(a), { status: 'USED', checkedInAt: T0 + 15 * MIN, gate: 'Side' });
  t.like(w.state.tickets.get(b), { status: 'USED', checkedInAt: T0 + 20 * MIN, gate: 'Main' });
  // The turn writes one row per ticket, as it ends up.
  const rows = rowsOfTurn(d.events.map((event, i) => ({ seq: i + 1, event })), w.state, new TurnReservations());
  t.deepEqual(rows.checkIns, [{ ticketId: a, at: T0 + 15 * MIN, gate: 'Side', voided: false }]);
  t.deepEqual(plain(w.rebuilt()), plain(w.state));
  t.deepEqual(plain(fromCompact(plain(toCompact(w.state)) as ReturnType<typeof toCompact>)), plain(w.state));
});

test('offline upload: unknown, voided, cancelled and wrong-gate scans change nothing', (t) => {
  const w = world();
  const [gated, voided] = w.sell(GATED, 2, rid(1)) as [string, string];
  w.exec({ type: 'VoidTicket', ticketId: voided, reason: 'refund' });
  const seq = w.state.seq;
  const d = w.exec({
    type: 'SyncCheckins',
    scans: [
      { ticketId: '0d000000-0000-4000-8000-0000000000ff', gate: 'North', scannedAt: T0 },
      { ticketId: voided, gate: 'North', scannedAt: T0 },
      { ticketId: gated, gate: 'South', scannedAt: T0 },
    ],
  });
  t.deepEqual(d.events, []);
  t.deepEqual(results(d).map((r) => r.result), ['INVALID', 'VOID', 'WRONG_GATE']);
  t.is(w.state.tickets.get(gated)?.status, 'VALID');
  t.is(w.state.seq, seq);

  w.exec({ type: 'CancelEvent', reason: 'storm' });
  const after = w.exec({ type: 'SyncCheckins', scans: [{ ticketId: gated, gate: 'North', scannedAt: T0 }] });
  t.deepEqual(after.events, []);
  t.is(results(after)[0]?.result, 'VOID');
});

test('two check-ins of one ticket in one turn write one row: the last one', (t) => {
  const w = world();
  const [a] = w.sell(ANY, 1, rid(1)) as [string];
  w.now = T0 + 20 * MIN;
  const online = w.exec({ type: 'CheckIn', ticketId: a, gate: 'Main' });
  const offline = w.exec({ type: 'SyncCheckins', scans: [{ ticketId: a, gate: 'Side', scannedAt: T0 + 5 * MIN }] });
  const entries = [...online.events, ...offline.events].map((event, i) => ({ seq: i + 1, event }));
  t.is(entries.length, 2);
  t.deepEqual(rowsOfTurn(entries, w.state, new TurnReservations()).checkIns, [{ ticketId: a, at: T0 + 5 * MIN, gate: 'Side', voided: false }]);
});

test('the check-in facts: journal position, voided tickets, gates per ticket type, cancellation', (t) => {
  const w = world();
  const [, voided] = w.sell(GATED, 2, rid(1)) as [string, string];
  w.exec({ type: 'VoidTicket', ticketId: voided, reason: 'refund' });
  const facts = w.exec({ type: 'GetCheckinFacts' });
  t.deepEqual(facts.events, []);
  t.deepEqual(facts.reply, {
    ok: true,
    kind: 'checkinFacts',
    facts: { seq: w.state.seq, cancelled: false, voidedTicketIds: [voided], gates: [{ ticketTypeId: GATED, gates: ['North', 'East'] }, { ticketTypeId: ANY, gates: [] }] },
  });
  w.exec({ type: 'CancelEvent', reason: 'storm' });
  const after = w.exec({ type: 'GetCheckinFacts' });
  t.like(after.reply, { kind: 'checkinFacts', facts: { cancelled: true, seq: w.state.seq } });
  if (after.reply.ok && after.reply.kind === 'checkinFacts') t.is(after.reply.facts.voidedTicketIds.length, 2);
});

test('the command parser refuses malformed uploads', (t) => {
  const scan = { ticketId: '0d000000-0000-4000-8000-0000000000ff', gate: 'North', scannedAt: T0 };
  const bad: unknown[] = [
    { type: 'SyncCheckins', scans: [] },
    { type: 'SyncCheckins', scans: Array.from({ length: 1001 }, () => scan) },
    { type: 'SyncCheckins', scans: [{ ...scan, gate: '' }] },
    { type: 'SyncCheckins', scans: [{ ...scan, gate: 'a\u0000b' }] },
    { type: 'SyncCheckins', scans: [{ ...scan, scannedAt: -1 }] },
    { type: 'SyncCheckins', scans: [{ ...scan, scannedAt: 1.5 }] },
    { type: 'SyncCheckins', scans: [{ ...scan, ticketId: 'nope' }] },
    { type: 'SyncCheckins', scans: [{ ...scan, extra: 1 }] },
    { type: 'GetCheckinFacts', extra: 1 },
  ];
  for (const cmd of bad) t.false(parseInventoryCommand(cmd).ok, JSON.stringify(cmd).slice(0, 100));
  t.true(parseInventoryCommand({ type: 'SyncCheckins', scans: [scan] }).ok);
});
