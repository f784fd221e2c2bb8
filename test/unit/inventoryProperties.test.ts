/**
 * Property tests of the pure EventInventory state machine (decide + evolve): random
 * command sequences against a small catalog, checked against the invariants of
 * DESIGN.md ("The EventInventory actor", "Invariants"). The actor applies a command as
 * `d = decide(state, cmd, ctx); for (e of d.events) { state.seq += 1; evolve(state, e) }`;
 * the simulator below does exactly that.
 *
 * Every assert.ok here carries a message: without one, node's assert re-reads and parses
 * the source to build a message, which under the tsx loader can take minutes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { decide } from '../../actors/inventory/decide.js';
import { evolve } from '../../actors/inventory/evolve.js';
import {
  emptyState,
  type CatalogInfo,
  type Decision,
  type DecideContext,
  type InventoryCommand,
  type InventoryEvent,
  type InventoryState,
  type LineItem,
  type Reservation,
  type ReserveCommand,
  type Ticket,
} from '../../actors/inventory/model.js';

// ── Fixed world ─────────────────────────────────────────────────────────────────────

const EVENT_ID = '6f1c2d3e-0000-4000-8000-00000000e001';
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const MIN = 60_000;
const CAPPED = 'SAVE10';
const CAP = 3;

interface TypeDef {
  readonly id: string;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
}

const TYPES: readonly TypeDef[] = [
  { id: '0a000000-0000-4000-8000-0000000000a1', name: 'General', min: 1, max: 4, validFrom: null, validUntil: null },
  { id: '0b000000-0000-4000-8000-0000000000b2', name: 'VIP', min: 2, max: 6, validFrom: null, validUntil: null },
  // On sale from T0+2min until T0+4h.
  { id: '0c000000-0000-4000-8000-0000000000c3', name: 'Early bird', min: 1, max: 10, validFrom: T0 + 2 * MIN, validUntil: T0 + 240 * MIN },
];
/** Index 3 in generated steps = a ticket type the catalog does not know. */
const UNKNOWN_TYPE = '0d000000-0000-4000-8000-0000000000d4';
const typeId = (i: number): string => TYPES[i]?.id ?? UNKNOWN_TYPE;

const RIDS = Array.from({ length: 8 }, (_, i) => `5e000000-0000-4000-8000-00000000000${i}`);
const rid = (i: number): string => RIDS[i % RIDS.length] as string;

/** Deterministic uuid-shaped ticket id for the i-th ticket of a reservation. */
const ticketId = (reservationId: string, index: number): string => {
  const h = createHash('sha256').update(`${reservationId}#${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

interface Setup {
  readonly types: readonly { readonly capacity: number; readonly sold: number; readonly price: number; readonly locked: boolean }[];
  /** Catalog `used_count` of the capped promo before the actor existed. */
  readonly usedBefore: number;
}

function catalogOf(setup: Setup, prices: readonly number[]): CatalogInfo {
  return {
    eventStatus: 'active',
    ticketTypes: TYPES.map((d, i) => ({
      id: d.id,
      name: d.name,
      priceMinor: prices[i] as number,
      currency: 'EUR',
      minPerPurchase: d.min,
      maxPerPurchase: d.max,
      validFrom: d.validFrom,
      validUntil: d.validUntil,
      quantity: setup.types[i]?.capacity ?? 0,
      soldQuantity: setup.types[i]?.sold ?? 0,
      locked: setup.types[i]?.locked ?? false,
      hidden: false,
    })),
    promos: [
      { code: CAPPED, percentOffBps: 1000, amountOffMinor: null, currency: null, maxUses: CAP, usedBefore: setup.usedBefore, validFrom: null, validUntil: null, active: true },
      { code: 'FIVEOFF', percentOffBps: null, amountOffMinor: 2500, currency: 'EUR', maxUses: null, usedBefore: 0, validFrom: null, validUntil: null, active: true },
      { code: 'DEAD', percentOffBps: 5000, amountOffMinor: null, currency: null, maxUses: null, usedBefore: 0, validFrom: null, validUntil: null, active: false },
    ],
  };
}

// ── Generated steps ─────────────────────────────────────────────────────────────────

type Step =
  | {
      readonly k: 'reserve';
      readonly rid: number;
      readonly items: readonly { readonly type: number; readonly quantity: number }[];
      readonly holdSeconds: number;
      readonly promo: string | null;
      readonly customer: string | null;
    }
  /** Resend an earlier Reserve command verbatim (a client retry). */
  | { readonly k: 'retry'; readonly back: number }
  /** known: pick among the reservations that exist (rid mod count) rather than from the whole pool. */
  | { readonly k: 'release'; readonly rid: number; readonly known: boolean }
  | { readonly k: 'confirm'; readonly rid: number; readonly known: boolean; readonly payment: string | null }
  /** ids: the expiry queue's list (picked like Confirm's ids, duplicates possible), or null = every due hold. */
  | { readonly k: 'expire'; readonly ids: readonly { readonly rid: number; readonly known: boolean }[] | null }
  /** A price quote: Reserve's checks, nothing held. */
  | { readonly k: 'quote'; readonly items: readonly { readonly type: number; readonly quantity: number }[]; readonly promo: string | null }
  /** Re-price an open hold with a promo code ('own': the code the hold already uses, else SAVE10). */
  | { readonly k: 'discount'; readonly rid: number; readonly known: boolean; readonly promo: string }
  /** capacity: absolute value, or (relative) sold + held + delta. */
  | { readonly k: 'capacity'; readonly type: number; readonly relative: boolean; readonly value: number }
  | { readonly k: 'lock'; readonly type: number | null; readonly locked: boolean }
  /** A ticket picked from the issued ones (pick mod count), or an unknown id. */
  | { readonly k: 'checkin'; readonly pick: number; readonly unknown: boolean; readonly gate: string }
  | { readonly k: 'tick'; readonly ms: number }
  /** Jump to the next hold expiry (plus offset ms), to hit the expiresAt boundary exactly. */
  | { readonly k: 'toExpiry'; readonly offset: number }
  /** Dynamic pricing: the catalog list price moves. */
  | { readonly k: 'price'; readonly type: number; readonly price: number }
  | { readonly k: 'remove'; readonly type: number }
  | { readonly k: 'sync' }
  | { readonly k: 'query'; readonly what: 'levels' | 'reservation' | 'ticket'; readonly rid: number };

const priceArb = fc.integer({ min: 100, max: 6000 });
const typeIdxArb = fc.oneof({ weight: 19, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constant(3) });
const ridArb = fc.integer({ min: 0, max: RIDS.length - 1 });
const knownArb = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

const setupArb: fc.Arbitrary<Setup> = fc.record({
  types: fc.tuple(
    ...TYPES.map(() =>
      fc.integer({ min: 1, max: 20 }).chain((capacity) =>
        fc.record({
          capacity: fc.constant(capacity),
          sold: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: capacity }) }),
          price: priceArb,
          locked: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        }),
      ),
    ),
  ),
  usedBefore: fc.integer({ min: 0, max: CAP }),
});

const quantityArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 2, arbitrary: fc.integer({ min: 5, max: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 11, 25, 2.5) },
);
const holdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 120 }) },
  { weight: 6, arbitrary: fc.integer({ min: 121, max: 3600 }) },
  { weight: 1, arbitrary: fc.constantFrom(-5, 3601, 1.5) },
);

const itemsArb = fc.oneof(
  { weight: 10, arbitrary: fc.array(fc.record({ type: typeIdxArb, quantity: quantityArb }), { minLength: 1, maxLength: 1 }) },
  { weight: 4, arbitrary: fc.uniqueArray(fc.record({ type: typeIdxArb, quantity: quantityArb }), { minLength: 2, maxLength: 2, selector: (i) => i.type }) },
  { weight: 1, arbitrary: fc.array(fc.record({ type: typeIdxArb, quantity: quantityArb }), { minLength: 0, maxLength: 3 }) },
);
const promoCodeArb = fc.constantFrom(CAPPED, 'save10', 'FIVEOFF', 'fiveoff', 'DEAD', 'NOPE');
const promoArb = fc.option(promoCodeArb, { freq: 2 });

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      k: fc.constant('reserve' as const),
      rid: ridArb,
      items: itemsArb,
      holdSeconds: holdArb,
      promo: promoArb,
      customer: fc.option(fc.constantFrom('cust-1', 'cust-2'), { freq: 3 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('retry' as const), back: fc.nat({ max: 20 }) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('release' as const), rid: ridArb, known: knownArb }) },
  { weight: 12, arbitrary: fc.record({ k: fc.constant('confirm' as const), rid: ridArb, known: knownArb, payment: fc.option(fc.constantFrom('pay-1', 'pay-2')) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('expire' as const),
      ids: fc.option(fc.array(fc.record({ rid: ridArb, known: knownArb }), { maxLength: 4 }), { freq: 2 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('quote' as const), items: itemsArb, promo: promoArb }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('discount' as const), rid: ridArb, known: knownArb, promo: fc.oneof(promoCodeArb, fc.constant('own')) }) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.record({ k: fc.constant('capacity' as const), type: typeIdxArb, relative: fc.constant(false), value: fc.integer({ min: -1, max: 25 }) }),
      fc.record({ k: fc.constant('capacity' as const), type: typeIdxArb, relative: fc.constant(true), value: fc.integer({ min: -3, max: 5 }) }),
    ),
  },
  { weight: 4, arbitrary: fc.record({
      k: fc.constant('lock' as const),
      type: fc.option(typeIdxArb, { freq: 3 }),
      locked: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('checkin' as const), pick: fc.nat({ max: 50 }), unknown: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), gate: fc.constantFrom('G1', 'G2', 'G3') }) },
  {
    weight: 12,
    arbitrary: fc.record({
      k: fc.constant('tick' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: MIN }), fc.integer({ min: 0, max: 30 * MIN }), fc.integer({ min: 0, max: 120 * MIN })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('toExpiry' as const), offset: fc.constantFrom(-1, 0, 0, 1) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('price' as const), type: fc.integer({ min: 0, max: 2 }), price: priceArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), type: typeIdxArb }) },
  { weight: 2, arbitrary: fc.constant({ k: 'sync' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('query' as const), what: fc.constantFrom('levels' as const, 'reservation' as const, 'ticket' as const), rid: ridArb }) },
);

interface Scenario {
  readonly setup: Setup;
  readonly steps: readonly Step[];
  /** Take a JSON snapshot after this step (mod length), to test snapshot + tail replay. */
  readonly snapshotAt: number;
  /** Extra time past the last expiry before the final Expire. */
  readonly slack: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  setup: setupArb,
  steps: fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
  snapshotAt: fc.nat(),
  slack: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 * MIN })),
});

// ── Simulator ───────────────────────────────────────────────────────────────────────

class Sim {
  readonly state: InventoryState = emptyState(EVENT_ID);
  now = T0;
  readonly prices: number[];
  readonly journal: InventoryEvent[] = [];
  readonly reserves: ReserveCommand[] = [];
  /** `sold` of the latest TicketTypeRegistered per type. */
  readonly registeredSold: Record<string, number> = {};

  constructor(readonly setup: Setup) {
    this.prices = setup.types.map((t) => t.price);
  }

  ctx(): DecideContext {
    return { now: this.now, catalog: catalogOf(this.setup, this.prices), ticketId, defaultHoldSeconds: 600, maxHoldSeconds: 3600 };
  }

  apply(d: Decision): void {
    for (const e of d.events) {
      this.state.seq += 1;
      evolve(this.state, e);
      this.journal.push(e);
      if (e.type === 'TicketTypeRegistered') this.registeredSold[e.ticketTypeId] = e.sold;
    }
  }

  /** decide + apply, as the actor does. */
  exec(cmd: InventoryCommand): Decision {
    const d = decide(this.state, cmd, this.ctx());
    this.apply(d);
    return d;
  }

  issuedTickets(): Ticket[] {
    return Object.values(this.state.tickets);
  }
}

function pickReservation(sim: Sim, i: number, known: boolean, heldOnly = false): string {
  const ids = (heldOnly ? heldOf(sim.state) : reservationsOf(sim.state)).map((r) => r.id);
  return known && ids.length > 0 ? (ids[i % ids.length] as string) : rid(i);
}

/** Turn a generated step into a command against the current simulator state (null = not a command). */
function toCommand(sim: Sim, step: Step): InventoryCommand | null {
  switch (step.k) {
    case 'reserve': {
      const cmd: ReserveCommand = {
        type: 'Reserve',
        reservationId: rid(step.rid),
        items: step.items.map((i) => ({ ticketTypeId: typeId(i.type), quantity: i.quantity })),
        holdSeconds: step.holdSeconds,
        promoCode: step.promo,
        customerId: step.customer,
      };
      sim.reserves.push(cmd);
      return cmd;
    }
    case 'retry': {
      const n = sim.reserves.length;
      return n === 0 ? { type: 'GetLevels' } : (sim.reserves[n - 1 - (step.back % n)] as ReserveCommand);
    }
    case 'release':
      return { type: 'Release', reservationId: pickReservation(sim, step.rid, step.known) };
    case 'confirm':
      return { type: 'Confirm', reservationId: pickReservation(sim, step.rid, step.known), paymentReference: step.payment };
    case 'expire':
      return step.ids === null ? { type: 'Expire' } : { type: 'Expire', reservationIds: step.ids.map((i) => pickReservation(sim, i.rid, i.known)) };
    case 'quote':
      return { type: 'Quote', items: step.items.map((i) => ({ ticketTypeId: typeId(i.type), quantity: i.quantity })), promoCode: step.promo };
    case 'discount': {
      const id = pickReservation(sim, step.rid, step.known, true);
      const promoCode = step.promo === 'own' ? (sim.state.reservations[id]?.promoCode ?? CAPPED) : step.promo;
      return { type: 'ApplyDiscount', reservationId: id, promoCode };
    }
    case 'capacity': {
      const id = typeId(step.type);
      const l = sim.state.levels[id];
      const capacity = step.relative && l ? l.sold + l.held + step.value : step.value;
      return { type: 'UpdateCapacity', ticketTypeId: id, capacity };
    }
    case 'lock':
      return { type: 'Lock', ticketTypeId: step.type === null ? null : typeId(step.type), locked: step.locked, reason: step.locked ? 'test' : null };
    case 'checkin': {
      const issued = sim.issuedTickets();
      const t = step.unknown || issued.length === 0 ? null : issued[step.pick % issued.length];
      return { type: 'CheckIn', ticketId: t ? t.id : ticketId('unknown-reservation', step.pick), gate: step.gate };
    }
    case 'remove':
      return { type: 'RemoveTicketType', ticketTypeId: typeId(step.type) };
    case 'sync':
      return { type: 'SyncCatalog' };
    case 'query':
      if (step.what === 'levels') return { type: 'GetLevels' };
      if (step.what === 'reservation') return { type: 'GetReservation', reservationId: rid(step.rid) };
      return { type: 'GetTicket', ticketId: ticketId(rid(step.rid), 0) };
    case 'tick':
      sim.now += step.ms;
      return null;
    case 'toExpiry': {
      const next = Math.min(...heldOf(sim.state).map((r) => r.expiresAt + step.offset).filter((t) => t > sim.now));
      if (Number.isFinite(next)) sim.now = next;
      return null;
    }
    case 'price':
      sim.prices[step.type] = step.price;
      return null;
  }
}

interface StepRecord {
  readonly index: number;
  readonly cmd: InventoryCommand;
  readonly ctx: DecideContext;
  /** A copy of the state before the command. */
  readonly before: InventoryState;
  readonly decision: Decision;
  readonly sim: Sim;
}

interface Hooks {
  /** Called after decide and before its events are applied (state is still the input state). */
  afterDecide?(sim: Sim, cmd: InventoryCommand, ctx: DecideContext, before: InventoryState, decision: Decision): void;
  /** Called after the events of a command were applied. */
  step?(rec: StepRecord): void;
  end?(sim: Sim): void;
}

function run(sc: Scenario, hooks: Hooks = {}): Sim {
  const sim = new Sim(sc.setup);
  const exec = (cmd: InventoryCommand, index: number): void => {
    const ctx = sim.ctx();
    const before = structuredClone(sim.state);
    const decision = decide(sim.state, cmd, ctx);
    hooks.afterDecide?.(sim, cmd, ctx, before, decision);
    sim.apply(decision);
    hooks.step?.({ index, cmd, ctx, before, decision, sim });
  };
  exec({ type: 'SyncCatalog' }, -1);
  sc.steps.forEach((step, index) => {
    const cmd = toCommand(sim, step);
    if (cmd) exec(cmd, index);
  });
  hooks.end?.(sim);
  return sim;
}

// ── Helpers ─────────────────────────────────────────────────────────────────────────

const RUNS = { numRuns: 400 };

const reservationsOf = (s: InventoryState): Reservation[] => Object.values(s.reservations);
const heldOf = (s: InventoryState): Reservation[] => reservationsOf(s).filter((r) => r.status === 'HELD');

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

function replay(journal: readonly InventoryEvent[], from: InventoryState = emptyState(EVENT_ID)): InventoryState {
  const state = from;
  for (const e of JSON.parse(JSON.stringify(journal)) as InventoryEvent[]) {
    state.seq += 1;
    evolve(state, e);
  }
  return state;
}

/** Same request as far as idempotency goes: items as a set, hold, promo (case-insensitive), customer. */
function samePayload(a: ReserveCommand, b: ReserveCommand): boolean {
  const canon = (c: ReserveCommand) =>
    JSON.stringify([
      [...c.items].sort((x, y) => x.ticketTypeId.localeCompare(y.ticketTypeId)).map((i) => [i.ticketTypeId, i.quantity]),
      c.holdSeconds,
      c.promoCode?.toUpperCase() ?? null,
      c.customerId,
    ]);
  return canon(a) === canon(b);
}

function checkLevels(sim: Sim): void {
  const s = sim.state;
  for (const [id, l] of Object.entries(s.levels)) {
    const where = `level ${id}: ${JSON.stringify(l)}`;
    assert.ok(Number.isInteger(l.sold) && Number.isInteger(l.held) && Number.isInteger(l.capacity), where);
    assert.ok(l.sold >= 0 && l.held >= 0, `negative counter, ${where}`);
    assert.ok(l.sold + l.held <= l.capacity, `oversold, ${where}`);
    const held = heldOf(s)
      .flatMap((r) => r.items)
      .filter((i) => i.ticketTypeId === id)
      .reduce((n, i) => n + i.quantity, 0);
    assert.equal(l.held, held, `held ≠ Σ HELD quantities, ${where}`);
    const tickets = Object.values(s.tickets).filter((t) => t.ticketTypeId === id).length;
    assert.equal(l.sold, (sim.registeredSold[id] ?? 0) + tickets, `sold ≠ registered + tickets, ${where}`);
  }
  for (const r of heldOf(s)) {
    for (const i of r.items) assert.ok(s.levels[i.ticketTypeId], `HELD ${r.id} references missing level ${i.ticketTypeId}`);
  }
}

// ── Properties ──────────────────────────────────────────────────────────────────────

test('1. after every command: sold + held ≤ capacity, counters ≥ 0, held = Σ HELD, sold = registered + tickets', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, { step: ({ sim }) => checkLevels(sim), end: checkLevels });
    }),
    RUNS,
  );
  t.pass();
});

test('2. holds expire: Expire releases exactly the due holds, past every expiry nothing is HELD, and Expire is idempotent', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, {
        step: ({ cmd, decision, before, sim, ctx }) => {
          if (cmd.type === 'Confirm') {
            const r = before.reservations[cmd.reservationId];
            if (r?.status === 'HELD' && r.expiresAt <= ctx.now) {
              assert.deepEqual(decision.events, [{ type: 'HoldExpired', reservationId: r.id }], 'an overdue hold was confirmed');
            }
          }
          if (cmd.type !== 'Expire') return;
          const listed = cmd.reservationIds ? new Set(cmd.reservationIds) : null;
          const due = heldOf(before)
            .filter((r) => r.expiresAt <= ctx.now && (!listed || listed.has(r.id)))
            .map((r) => r.id)
            .sort();
          const expired = decision.events.map((e) => (e.type === 'HoldExpired' ? e.reservationId : `unexpected ${e.type}`)).sort();
          assert.deepEqual(expired, due, 'Expire must emit one HoldExpired per due (listed) hold');
          if (!listed) assert.ok(heldOf(sim.state).every((r) => r.expiresAt > sim.now), 'a due hold is still HELD after Expire');
          for (const id of due) assert.equal(sim.state.reservations[id]?.status, 'EXPIRED');
          assert.deepEqual(decide(sim.state, cmd, sim.ctx()).events, [], 'second Expire emitted events');
          // Expiry is idempotent in evolve too: a re-delivered HoldExpired changes nothing.
          const copy = structuredClone(sim.state);
          for (const e of decision.events) evolve(copy, e);
          assert.deepStrictEqual(copy, sim.state, 'HoldExpired applied twice changed the state');
        },
        end: (sim) => {
          const last = Math.max(sim.now, ...reservationsOf(sim.state).map((r) => r.expiresAt));
          sim.now = last + sc.slack;
          sim.exec({ type: 'Expire' });
          assert.deepEqual(heldOf(sim.state), []);
          for (const [id, l] of Object.entries(sim.state.levels)) assert.equal(l.held, 0, `level ${id} still holds`);
          for (const [code, n] of Object.entries(sim.state.promoUses)) {
            const confirmed = reservationsOf(sim.state).filter((r) => r.status === 'CONFIRMED' && r.promoCode === code).length;
            assert.equal(n, confirmed, `promo ${code} uses after all holds expired`);
          }
          const snapshot = structuredClone(sim.state);
          const again = sim.exec({ type: 'Expire' });
          assert.deepEqual(again.events, []);
          assert.deepEqual(sim.state, snapshot);
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('3. idempotency: same reserve id + payload returns the same reservation, other payload → CONFLICT, confirm twice → same tickets', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      /** The command that created each reservation, and the tickets its first confirm issued. */
      const origin = new Map<string, ReserveCommand>();
      const confirmedTickets = new Map<string, readonly Ticket[]>();
      run(sc, {
        step: ({ cmd, decision, before, sim }) => {
          if (cmd.type === 'Reserve') {
            const existing = before.reservations[cmd.reservationId];
            if (existing) {
              assert.deepEqual(decision.events, [], 'a reserve on a known id emitted events');
              const first = origin.get(cmd.reservationId) as ReserveCommand;
              if (samePayload(cmd, first)) {
                assert.ok(decision.reply.ok && decision.reply.kind === 'reservation', JSON.stringify(decision.reply));
                assert.deepEqual(decision.reply.reservation, existing);
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
              assert.deepEqual(again.reply.reservation, decision.reply.reservation);
            }
          }
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('4. promo caps: HELD + CONFIRMED uses of a capped code ≤ maxUses − usedBefore, and released/expired holds give the use back', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const cap = Math.max(0, CAP - sc.setup.usedBefore);
      const uses = (s: InventoryState, code: string) => reservationsOf(s).filter((r) => r.promoCode === code && (r.status === 'HELD' || r.status === 'CONFIRMED')).length;
      run(sc, {
        step: ({ cmd, decision, before, sim }) => {
          const s = sim.state;
          assert.ok(uses(s, CAPPED) <= cap, `${uses(s, CAPPED)} uses of ${CAPPED}, cap ${cap}`);
          const codes = new Set([...Object.keys(s.promoUses), ...reservationsOf(s).flatMap((r) => (r.promoCode ? [r.promoCode] : []))]);
          for (const code of codes) assert.equal(s.promoUses[code] ?? 0, uses(s, code), `promoUses[${code}] out of step with reservations`);
          if (cmd.type === 'Reserve' && cmd.promoCode?.toUpperCase() === CAPPED && !before.reservations[cmd.reservationId]) {
            if (decision.events.length > 0) {
              assert.ok(uses(before, CAPPED) < cap, 'a hold took a capped promo with no uses left');
            } else if (!decision.reply.ok && decision.reply.code === 'PROMO_UNAVAILABLE') {
              // SAVE10 is always active and in its window: the only reason is the cap.
              assert.equal(uses(before, CAPPED), cap, 'capped promo refused while uses were left');
            }
          }
          if (cmd.type === 'ApplyDiscount' && cmd.promoCode.toUpperCase() === CAPPED) {
            // Re-applying the code a hold already uses takes no extra use.
            const own = before.reservations[cmd.reservationId];
            const others = uses(before, CAPPED) - (own?.status === 'HELD' && own.promoCode === CAPPED ? 1 : 0);
            if (decision.events.length > 0) {
              assert.ok(others < cap, 'ApplyDiscount took a capped promo with no uses left');
            } else if (!decision.reply.ok && decision.reply.code === 'PROMO_UNAVAILABLE') {
              assert.equal(others, cap, 'capped promo refused to ApplyDiscount while uses were left');
            }
          }
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('4b. promo cap example: the use of a released or expired hold goes back to the pool', (t) => {
  const sim = new Sim({ types: [{ capacity: 20, sold: 0, price: 1000, locked: false }, { capacity: 20, sold: 0, price: 2000, locked: false }, { capacity: 20, sold: 0, price: 500, locked: false }], usedBefore: 1 });
  sim.exec({ type: 'SyncCatalog' });
  const reserve = (i: number, holdSeconds = 60) =>
    sim.exec({ type: 'Reserve', reservationId: rid(i), items: [{ ticketTypeId: typeId(0), quantity: 1 }], holdSeconds, promoCode: 'save10', customerId: null });
  t.true(reserve(0).reply.ok);
  t.true(reserve(1, 600).reply.ok);
  const full = reserve(2);
  t.like(full, { events: [], reply: { ok: false, code: 'PROMO_UNAVAILABLE' } });
  t.true(sim.exec({ type: 'Release', reservationId: rid(0) }).reply.ok);
  t.true(reserve(3).reply.ok, 'the released use is available again');
  t.like(reserve(4), { reply: { ok: false, code: 'PROMO_UNAVAILABLE' } });
  sim.now += 61_000;
  t.is(sim.exec({ type: 'Expire' }).events.length, 1);
  t.true(reserve(5).reply.ok, 'the expired use is available again');
  t.true(sim.exec({ type: 'Confirm', reservationId: rid(1), paymentReference: null }).reply.ok);
  t.is(sim.state.promoUses[CAPPED], 2);
});

test('5. a held price never changes, confirm issues tickets at the held price, discount ≤ subtotal and totals add up', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const quotes = new Map<string, readonly LineItem[]>();
      run(sc, {
        step: ({ cmd, decision, ctx, sim }) => {
          for (const e of decision.events) {
            if (e.type === 'HoldPlaced') {
              const r = e.reservation;
              quotes.set(r.id, structuredClone(r.items));
              for (const i of r.items) {
                const listed = ctx.catalog.ticketTypes.find((x) => x.id === i.ticketTypeId);
                assert.equal(i.unitPriceMinor, listed?.priceMinor, 'hold not quoted at the current list price');
              }
              const subtotal = r.items.reduce((n, i) => n + i.quantity * i.unitPriceMinor, 0);
              assert.equal(r.subtotalMinor, subtotal);
              assert.ok(Number.isInteger(r.discountMinor) && Number.isInteger(r.totalMinor), `non-integer money: ${JSON.stringify(r)}`);
              assert.ok(r.discountMinor >= 0 && r.discountMinor <= r.subtotalMinor, `discount ${r.discountMinor} of ${r.subtotalMinor}`);
              assert.equal(r.totalMinor, r.subtotalMinor - r.discountMinor);
            }
            if (e.type === 'ReservationConfirmed') {
              const items = quotes.get(e.reservationId) as readonly LineItem[];
              for (const ticket of e.tickets) {
                const item = items.find((i) => i.ticketTypeId === ticket.ticketTypeId);
                assert.equal(ticket.priceMinor, item?.unitPriceMinor, 'ticket not issued at the held price');
              }
              for (const i of items) assert.equal(e.tickets.filter((x) => x.ticketTypeId === i.ticketTypeId).length, i.quantity);
            }
          }
          if (cmd.type === 'Confirm' && decision.reply.ok && decision.reply.kind === 'reservation') {
            const items = quotes.get(cmd.reservationId) as readonly LineItem[];
            for (const ticket of decision.reply.tickets) {
              assert.equal(ticket.priceMinor, items.find((i) => i.ticketTypeId === ticket.ticketTypeId)?.unitPriceMinor);
            }
          }
          for (const r of reservationsOf(sim.state)) {
            assert.deepEqual(r.items, quotes.get(r.id), `items of ${r.id} changed`);
            assert.equal(r.subtotalMinor, r.items.reduce((n, i) => n + i.quantity * i.unitPriceMinor, 0), `subtotal of ${r.id}`);
            assert.ok(r.discountMinor >= 0 && r.discountMinor <= r.subtotalMinor, `discount ${r.discountMinor} of ${r.subtotalMinor}`);
            assert.equal(r.totalMinor, r.subtotalMinor - r.discountMinor);
            const expected = r.promoCode === CAPPED ? Math.floor(r.subtotalMinor / 10) : r.promoCode === 'FIVEOFF' ? Math.min(2500, r.subtotalMinor) : 0;
            assert.equal(r.discountMinor, expected, `discount of ${r.id} for ${r.promoCode}`);
          }
          for (const ticket of Object.values(sim.state.tickets)) {
            const items = quotes.get(ticket.reservationId) as readonly LineItem[];
            assert.equal(ticket.priceMinor, items.find((i) => i.ticketTypeId === ticket.ticketTypeId)?.unitPriceMinor);
          }
        },
      });
    }),
    RUNS,
  );
  // The generator does move prices under open holds that later confirm.
  let moved = 0;
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, {
        step: ({ decision, ctx, sim }) => {
          for (const e of decision.events) {
            if (e.type !== 'ReservationConfirmed') continue;
            const r = sim.state.reservations[e.reservationId] as Reservation;
            if (r.items.some((i) => ctx.catalog.ticketTypes.find((x) => x.id === i.ticketTypeId)?.priceMinor !== i.unitPriceMinor)) moved += 1;
          }
        },
      });
    }),
    { numRuns: 200, seed: 42 },
  );
  t.true(moved > 0, 'no confirm happened after a price move: the generator does not exercise property 5');
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
            snapshot = JSON.stringify(sim.state);
            snapshotSeq = sim.journal.length;
          }
        },
        end: (sim) => {
          assert.equal(sim.state.seq, sim.journal.length);
          assert.deepStrictEqual(replay(sim.journal), sim.state);
          assert.deepStrictEqual(JSON.parse(JSON.stringify(sim.state)), sim.state);
          const from = snapshot === undefined ? emptyState(EVENT_ID) : (JSON.parse(snapshot) as InventoryState);
          assert.equal(from.seq, snapshot === undefined ? 0 : snapshotSeq);
          assert.deepStrictEqual(replay(sim.journal.slice(from.seq), from), sim.state);
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
          assert.deepStrictEqual(sim.state, before, `decide(${cmd.type}) mutated the state`);
          const frozen = deepFreeze(structuredClone(before));
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
            if (!before.tickets[cmd.ticketId]) {
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
          for (const ticket of Object.values(sim.state.tickets)) {
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

test('9. refusals change nothing (except Confirm of an overdue hold, which records HoldExpired)', (t) => {
  const codes = new Set(['PROMO_UNAVAILABLE', 'VALIDATION', 'NOT_FOUND', 'SOLD_OUT', 'LOCKED', 'NOT_ON_SALE', 'HOLD_EXPIRED', 'CONFLICT']);
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, {
        step: ({ cmd, decision, before, ctx, sim }) => {
          const r = decision.reply;
          if (r.ok) return;
          assert.ok(codes.has(r.code), r.code);
          assert.ok(r.message.length > 0, `refusal ${r.code} without a message`);
          if (decision.events.length === 0) {
            assert.deepStrictEqual(sim.state, before, `refused ${cmd.type} changed the state`);
            return;
          }
          assert.ok(cmd.type === 'Confirm' && r.code === 'HOLD_EXPIRED', `refusal ${r.code} of ${cmd.type} emitted ${JSON.stringify(decision.events)}`);
          const held = before.reservations[cmd.reservationId];
          assert.ok(held?.status === 'HELD' && held.expiresAt <= ctx.now, 'HoldExpired emitted for a hold that was not overdue');
          assert.deepEqual(decision.events, [{ type: 'HoldExpired', reservationId: cmd.reservationId }]);
          assert.equal(sim.state.reservations[cmd.reservationId]?.status, 'EXPIRED');
        },
      });
    }),
    RUNS,
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
            assert.deepStrictEqual(r.reservation, s.reservations[r.reservation.id], `${cmd.type} reply vs state`);
            assert.deepStrictEqual(r.tickets, r.reservation.ticketIds.map((id) => s.tickets[id]));
          } else if (r.kind === 'levels') {
            assert.equal(r.eventLocked, s.eventLocked);
            assert.equal(r.levels.length, Object.keys(s.levels).length);
            for (const v of r.levels) {
              const l = s.levels[v.ticketTypeId];
              assert.deepEqual(v, l && { ticketTypeId: v.ticketTypeId, ...l, available: l.capacity - l.sold - l.held });
            }
          } else if (r.kind === 'checkin') {
            if (r.ticket) assert.deepStrictEqual(r.ticket, s.tickets[r.ticket.id]);
          } else if (r.kind === 'ticket' && cmd.type === 'GetTicket') {
            assert.deepStrictEqual(r.ticket, s.tickets[cmd.ticketId] ?? null);
          }
        },
      });
    }),
    RUNS,
  );
  t.pass();
});

test('11. sales locks: no hold is placed while the event or one of its ticket types is locked', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      run(sc, {
        step: ({ cmd, decision, before }) => {
          if (cmd.type !== 'Reserve' || decision.events.length === 0) return;
          assert.ok(!before.eventLocked, 'hold placed while the event is locked');
          for (const i of cmd.items) assert.ok(before.levels[i.ticketTypeId]?.locked === false, `hold placed on locked type ${i.ticketTypeId}`);
        },
      });
    }),
    RUNS,
  );
  t.pass();
});
