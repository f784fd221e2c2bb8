/**
 * The world, command generators and simulator behind the inventory property tests
 * (inventoryInvariants.test.ts, inventoryBehaviour.test.ts): random command sequences
 * against a small catalog, applied exactly as the actor does:
 * `d = decide(state, cmd, ctx); for (e of d.events) { state.seq += 1; evolve(state, e) }`.
 * `stored` stands for the reservation rows the actor's commits write to Postgres: decide
 * reads closed (or forgotten) reservations from them, as the actor loads them.
 */
import assert from 'node:assert/strict';
import { decide } from '../../actors/inventory/decide.js';
import { evolve } from '../../actors/inventory/evolve.js';
import { closedInTurn, pastReservationIds } from '../../actors/inventory/pastReservations.js';
import { TurnReservations } from '../../actors/inventory/turnRows.js';
import {
  emptyState,
  type PastReservation,
  type Decision,
  type DecideContext,
  type InventoryCommand,
  type InventoryEvent,
  type InventoryState,
  type Reservation,
  type ReserveCommand,
  type Ticket,
} from '../../actors/inventory/model.js';

import { EVENT_ID, T0, CAPPED, typeId, rid, ticketId, type Setup, catalogOf, type Step, type Scenario } from './inventoryWorld.js';
export * from './inventoryWorld.js';

// ── Simulator ───────────────────────────────────────────────────────────────────────

export class Sim {
  readonly state: InventoryState = emptyState(EVENT_ID);
  now = T0;
  readonly prices: number[];
  readonly journal: InventoryEvent[] = [];
  readonly reserves: ReserveCommand[] = [];
  /** `sold` of the latest TicketTypeRegistered per type. */
  readonly registeredSold: Record<string, number> = {};
  /** Every reservation as the commits wrote it (Postgres' `reservations`). */
  readonly stored = new Map<string, PastReservation>();
  /** Every reservation whole, with its request fingerprint (as states kept them before closed ones were compacted). */
  readonly bodies = new Map<string, Reservation>();
  /** The reservations the command being decided touches (as the actor collects them). */
  private touched = new TurnReservations();

  constructor(readonly setup: Setup) {
    this.prices = setup.types.map((t) => t.price);
  }

  /** The context `cmd` is decided in: the stored reservations the actor would load for it. */
  ctx(cmd?: InventoryCommand): DecideContext {
    const touched = new TurnReservations();
    this.touched = touched;
    const load = new Set(cmd ? pastReservationIds(this.state, [cmd]) : []);
    return {
      now: this.now,
      catalog: catalogOf(this.setup, this.prices),
      ticketId,
      defaultHoldSeconds: 600,
      maxHoldSeconds: 3600,
      pastReservations: { get: (id) => touched.closed.get(id) ?? (load.has(id) ? this.stored.get(id) : undefined) },
    };
  }

  apply(d: Decision): void {
    const touched = this.touched;
    for (const e of d.events) {
      touched.before(this.state, e);
      this.state.seq += 1;
      evolve(this.state, e);
      touched.after(this.state, e);
      this.journal.push(e);
      if (e.type === 'TicketTypeRegistered') this.registeredSold[e.ticketTypeId] = e.sold;
    }
    for (const r of touched.rows.values()) {
      this.stored.set(r.id, closedInTurn(r));
      this.bodies.set(r.id, r);
    }
    for (const [id, past] of touched.closed) this.stored.set(id, past);
    this.touched = new TurnReservations();
  }

  /** decide + apply, as the actor does. */
  exec(cmd: InventoryCommand): Decision {
    const d = decide(this.state, cmd, this.ctx(cmd));
    this.apply(d);
    return d;
  }

  /** Drop closed records older than `windowMs` (the actor does so at each turn). */
  prune(windowMs: number): number {
    return this.state.closed.prune(this.now - windowMs);
  }

  issuedTickets(): Ticket[] {
    return Object.values(this.state.tickets.toJSON());
  }
}

export function pickReservation(sim: Sim, i: number, known: boolean, heldOnly = false): string {
  const ids = (heldOnly ? heldOf(sim.state) : reservationsOf(sim)).map((r) => r.id);
  return known && ids.length > 0 ? (ids[i % ids.length] as string) : rid(i);
}

/** Turn a generated step into a command against the current simulator state (null = not a command). */
export function toCommand(sim: Sim, step: Step): InventoryCommand | null {
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

export interface StepRecord {
  readonly index: number;
  readonly cmd: InventoryCommand;
  readonly ctx: DecideContext;
  /** A copy of the state before the command. */
  readonly before: InventoryState;
  readonly decision: Decision;
  readonly sim: Sim;
}

export interface Hooks {
  /** Called after decide and before its events are applied (state is still the input state). */
  afterDecide?(sim: Sim, cmd: InventoryCommand, ctx: DecideContext, before: InventoryState, decision: Decision): void;
  /** Called after the events of a command were applied. */
  step?(rec: StepRecord): void;
  end?(sim: Sim): void;
}

export function run(sc: Scenario, hooks: Hooks = {}): Sim {
  const sim = new Sim(sc.setup);
  const exec = (cmd: InventoryCommand, index: number): void => {
    const ctx = sim.ctx(cmd);
    const before = cloneState(sim.state);
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

export const RUNS = { numRuns: 400 };

/** Open holds. */
export const heldOf = (s: InventoryState): Reservation[] => Object.values(s.reservations);
/**
 * Every reservation of state `s` (default: the simulator's now): its open holds, and the
 * closed ones it has records of, with their bodies as stored.
 */
export const reservationsOf = (sim: Sim, s: InventoryState = sim.state): Reservation[] => [
  ...heldOf(s),
  ...[...sim.stored.values()].flatMap((p) => {
    const closed = s.closed.get(p.reservation.id);
    return closed ? [{ ...p.reservation, status: closed.status }] : [];
  }),
];

/** Freeze `o` and everything it holds (typed arrays cannot be frozen: their owner is, so they cannot be replaced). */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o) && !ArrayBuffer.isView(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** A deep copy of the state (the actor never copies it: evolve changes it in place). */
export function cloneState(s: InventoryState): InventoryState {
  return {
    ...structuredClone({ ...s, closed: undefined, tickets: undefined }),
    eventId: s.eventId,
    closed: s.closed.clone(),
    tickets: s.tickets.clone(),
  };
}

/**
 * The state as plain JSON (the ticket book and closed records as objects by id), for
 * comparisons; without the closing times of closed records when `closedAt` is false (a
 * state loaded from an old snapshot knows only their expiry).
 */
export function plainState(s: InventoryState, { closedAt = true } = {}): unknown {
  const p = JSON.parse(JSON.stringify(s)) as { closed: { records: Record<string, { closedAt?: number }> } };
  if (!closedAt) for (const r of Object.values(p.closed.records)) delete r.closedAt;
  return p;
}

/** The simulator's state as a version-1 snapshot held it: every reservation and ticket as an object. */
export function legacyStateV1(sim: Sim): Record<string, unknown> & { reservations: Record<string, Reservation>; tickets: Record<string, Ticket> } {
  const s = sim.state;
  const reservations: Record<string, Reservation> = {};
  for (const [id, r] of sim.bodies) {
    const status = s.reservations[id]?.status ?? s.closed.get(id)?.status;
    if (status) reservations[id] = { ...(s.reservations[id] ?? r), status };
  }
  const { closed: _c, ...rest } = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
  return { ...rest, reservations, tickets: s.tickets.toJSON() };
}

/** The same as a version-2 snapshot: reservations and tickets as tuples, ticket type ids by index. */
export function legacyStateV2(sim: Sim): Record<string, unknown> {
  const v1 = legacyStateV1(sim);
  const types: string[] = [];
  const type = (id: string) => (types.includes(id) ? types.indexOf(id) : types.push(id) - 1);
  const statuses = ['HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED'];
  const reservations = Object.values(v1.reservations).map((r) => [
    r.id, statuses.indexOf(r.status), r.items.map((i) => [type(i.ticketTypeId), i.quantity, i.unitPriceMinor]), r.currency, r.subtotalMinor,
    r.discountMinor, r.totalMinor, r.promoCode, r.customerId, r.expiresAt, r.requestHash, r.paymentReference,
  ]);
  const tickets = Object.values(v1.tickets).map((t) => [t.id, type(t.ticketTypeId), t.reservationId, t.priceMinor, ['VALID', 'USED', 'VOID'].indexOf(t.status), t.checkedInAt, t.gate]);
  return { ...v1, v: 2, types, reservations, tickets };
}

export function replay(journal: readonly InventoryEvent[], from: InventoryState = emptyState(EVENT_ID)): InventoryState {
  const state = from;
  for (const e of JSON.parse(JSON.stringify(journal)) as InventoryEvent[]) {
    state.seq += 1;
    evolve(state, e);
  }
  return state;
}

/** Same request as far as idempotency goes: items as a set, hold, promo (case-insensitive), customer. */
export function samePayload(a: ReserveCommand, b: ReserveCommand): boolean {
  const canon = (c: ReserveCommand) =>
    JSON.stringify([
      [...c.items].sort((x, y) => x.ticketTypeId.localeCompare(y.ticketTypeId)).map((i) => [i.ticketTypeId, i.quantity]),
      c.holdSeconds,
      c.promoCode?.toUpperCase() ?? null,
      c.customerId,
    ]);
  return canon(a) === canon(b);
}

export function checkLevels(sim: Sim): void {
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
    const tickets = sim.issuedTickets().filter((t) => t.ticketTypeId === id).length;
    assert.equal(l.sold, (sim.registeredSold[id] ?? 0) + tickets, `sold ≠ registered + tickets, ${where}`);
  }
  for (const r of heldOf(s)) {
    for (const i of r.items) assert.ok(s.levels[i.ticketTypeId], `HELD ${r.id} references missing level ${i.ticketTypeId}`);
  }
}
