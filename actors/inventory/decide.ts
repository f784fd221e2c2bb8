/**
 * decide: given the state, one command and a context (clock, catalog facts, id minting),
 * return the journal events to append and the reply. Pure: no I/O, no clock reads, no
 * randomness, and it never mutates the state (the actor applies the events with evolve).
 *
 * Reservation lifecycle:
 *   (none) ──Reserve──▶ HELD ──Confirm──▶ CONFIRMED   (tickets issued, VALID)
 *                        │  ──Release──▶ RELEASED
 *                        └─ expiresAt ≤ now (Expire, or a late Confirm) ──▶ EXPIRED
 * Check-ins: decideCheckin.ts; voids and cancellation: decideTickets.ts. A cancelled event refuses reserve and confirm.
 * The state holds open holds whole; a command naming a closed (or forgotten) reservation
 * is answered from its body in `ctx.pastReservations` (pastReservations.ts).
 * Invariant kept by every branch: for each ticket type, sold + held ≤ capacity.
 */
import type {
  CatalogInfo,
  Decision,
  DecideContext,
  DecideState,
  InventoryCommand,
  LevelView,
  LineItem,
  Refusal,
  RefusalCode,
  Reservation,
  ReserveCommand,
  Ticket,
} from './model.js';
import { evolveLevels } from './evolve.js';
import { pastReservation } from './pastReservations.js';
import { decideCancelEvent, decideVoidTicket } from './decideTickets.js';
import { checkinFacts, decideCheckIn, decideSyncCheckins } from './decideCheckin.js';
import { decideApplyDiscount, promoDiscount } from './decidePromo.js';
import { decideReprice, pricingViews, tierRefusal, unitPrice } from './decidePricing.js';

const refuse = (code: RefusalCode, message: string, details?: Record<string, unknown>): Decision => ({
  events: [],
  reply: { ok: false, code, message, ...(details ? { details } : {}) } satisfies Refusal,
});

const done: Decision = { events: [], reply: { ok: true, kind: 'done' } };

/** Once the event is cancelled, nothing is sold or confirmed. */
const cancelledRefusal = (state: DecideState): Decision | undefined =>
  state.cancelled ? refuse('NOT_ON_SALE', 'the event is cancelled', { event_status: 'cancelled', reason: state.cancelled.reason }) : undefined;

export function levelViews(state: Pick<DecideState, 'levels'>, catalog?: CatalogInfo): LevelView[] {
  const order = catalog ? catalog.ticketTypes.map((t) => t.id).filter((id) => state.levels[id]) : [];
  const ids = [...order, ...Object.keys(state.levels).filter((id) => !order.includes(id))];
  return ids.map((id) => {
    const l = state.levels[id] as NonNullable<DecideState['levels'][string]>;
    return {
      ticketTypeId: id,
      capacity: l.capacity,
      sold: l.sold,
      held: l.held,
      available: Math.max(0, l.capacity - l.sold - l.held),
      locked: l.locked,
    };
  });
}

/** An open hold (it has no tickets yet), or a closed reservation with its tickets. */
const reservationReply = (r: Reservation, tickets: readonly Ticket[] = [], events: Decision['events'] = []): Decision => ({
  events,
  reply: { ok: true, kind: 'reservation', reservation: r, tickets },
});

const notFound = (id: string): Decision => refuse('NOT_FOUND', `reservation ${id} not found`, { reservation_id: id });

/** Canonical form of a reserve request: a retry with the same id must match it exactly. */
export function requestFingerprint(cmd: ReserveCommand): string {
  const items = [...cmd.items].sort((a, b) => a.ticketTypeId.localeCompare(b.ticketTypeId));
  return JSON.stringify([items.map((i) => [i.ticketTypeId, i.quantity]), cmd.holdSeconds, cmd.promoCode?.toUpperCase() ?? null, cmd.customerId]);
}

const reusedId = (id: string): Decision => refuse('CONFLICT', 'this reservation id was used for a different request', { reservation_id: id });

function decideReserve(state: DecideState, cmd: ReserveCommand, ctx: DecideContext): Decision {
  const cancelled = cancelledRefusal(state);
  if (cancelled) return cancelled;
  const fingerprint = requestFingerprint(cmd);
  const existing = state.reservations[cmd.reservationId];
  if (existing) return existing.requestHash === fingerprint ? reservationReply(existing) : reusedId(cmd.reservationId);
  const past = cmd.reservationId === '' ? undefined : pastReservation(state, cmd.reservationId, ctx);
  if (past && 'ok' in past) return { events: [], reply: past };
  if (past) return past.sameRequest(fingerprint) ? reservationReply(past.reservation, past.tickets) : reusedId(cmd.reservationId);
  if (cmd.items.length === 0) return refuse('VALIDATION', 'items must not be empty', { field: 'items' });
  if (new Set(cmd.items.map((i) => i.ticketTypeId)).size !== cmd.items.length) {
    return refuse('VALIDATION', 'each ticket type may appear once in items', { field: 'items' });
  }
  const holdSeconds = cmd.holdSeconds === 0 ? ctx.defaultHoldSeconds : cmd.holdSeconds;
  if (!Number.isInteger(holdSeconds) || holdSeconds < 1 || holdSeconds > ctx.maxHoldSeconds) {
    return refuse('VALIDATION', `hold_seconds must be from 1 to ${ctx.maxHoldSeconds} (0 = default)`, { field: 'hold_seconds' });
  }
  if (ctx.catalog.eventStatus !== 'active') {
    return refuse('NOT_ON_SALE', `the event is ${ctx.catalog.eventStatus}`, { event_status: ctx.catalog.eventStatus });
  }
  if (state.eventLocked) return refuse('LOCKED', 'sales are locked for this event');

  const items: LineItem[] = [];
  let currency: string | undefined;
  for (const want of cmd.items) {
    const info = ctx.catalog.ticketTypes.find((t) => t.id === want.ticketTypeId);
    const level = state.levels[want.ticketTypeId];
    if (!info || !level || info.hidden) return refuse('NOT_FOUND', `ticket type ${want.ticketTypeId} not found`, { ticket_type_id: want.ticketTypeId });
    if (!Number.isInteger(want.quantity) || want.quantity <= 0) {
      return refuse('VALIDATION', 'quantity must be a positive integer', { ticket_type_id: info.id });
    }
    if (want.quantity < info.minPerPurchase || want.quantity > info.maxPerPurchase) {
      return refuse('VALIDATION', `quantity must be from ${info.minPerPurchase} to ${info.maxPerPurchase} per purchase`, {
        ticket_type_id: info.id,
        min_per_purchase: info.minPerPurchase,
        max_per_purchase: info.maxPerPurchase,
      });
    }
    if (level.locked) return refuse('LOCKED', `sales of ${info.name} are locked`, { ticket_type_id: info.id });
    if ((info.validFrom !== null && ctx.now < info.validFrom) || (info.validUntil !== null && ctx.now >= info.validUntil)) {
      return refuse('NOT_ON_SALE', `${info.name} is not on sale now`, { ticket_type_id: info.id });
    }
    const tier = tierRefusal(state, info, ctx);
    if (tier !== undefined) return refuse('NOT_ON_SALE', tier, { ticket_type_id: info.id });
    const available = level.capacity - level.sold - level.held;
    if (want.quantity > available) {
      return refuse('SOLD_OUT', `only ${Math.max(0, available)} of ${info.name} left`, { ticket_type_id: info.id, available: Math.max(0, available) });
    }
    if (currency !== undefined && currency !== info.currency) {
      return refuse('VALIDATION', 'all items of a reservation must share one currency', { field: 'items' });
    }
    currency = info.currency;
    // The current (dynamic) price, locked into the hold: confirm charges exactly this.
    items.push({ ticketTypeId: info.id, quantity: want.quantity, unitPriceMinor: unitPrice(state, info, ctx) });
  }
  const subtotal = items.reduce((sum, i) => sum + i.quantity * i.unitPriceMinor, 0);

  let discount = 0;
  let promoCode: string | null = null;
  if (cmd.promoCode) {
    const promo = promoDiscount(state, ctx, cmd.promoCode, subtotal, currency as string, null);
    if ('ok' in promo) return { events: [], reply: promo };
    discount = promo.discount;
    promoCode = promo.code;
  }

  const reservation: Reservation = {
    id: cmd.reservationId,
    status: 'HELD',
    items,
    currency: currency as string,
    subtotalMinor: subtotal,
    discountMinor: discount,
    totalMinor: subtotal - discount,
    promoCode,
    customerId: cmd.customerId,
    expiresAt: ctx.now + holdSeconds * 1000,
    requestHash: fingerprint,
    paymentReference: null,
    ticketIds: [],
  };
  return { events: [{ type: 'HoldPlaced', reservation }], reply: { ok: true, kind: 'reservation', reservation, tickets: [] } };
}

function decideConfirm(state: DecideState, id: string, paymentReference: string | null, ctx: DecideContext): Decision {
  const cancelled = cancelledRefusal(state);
  if (cancelled) return cancelled;
  const r = state.reservations[id];
  if (!r) {
    const past = pastReservation(state, id, ctx);
    if (!past) return notFound(id);
    if ('ok' in past) return { events: [], reply: past };
    const status = past.reservation.status;
    return status === 'CONFIRMED' ? reservationReply(past.reservation, past.tickets) : refuse('HOLD_EXPIRED', `reservation ${id} is ${status}`, { status });
  }
  if (r.expiresAt <= ctx.now) {
    return { events: [{ type: 'HoldExpired', reservationId: id }], reply: { ok: false, code: 'HOLD_EXPIRED', message: `the hold on ${id} expired`, details: { status: 'EXPIRED' } } };
  }
  const tickets: { id: string; ticketTypeId: string; priceMinor: number }[] = [];
  for (const item of r.items) {
    for (let i = 0; i < item.quantity; i++) {
      tickets.push({ id: ctx.ticketId(id, tickets.length), ticketTypeId: item.ticketTypeId, priceMinor: item.unitPriceMinor });
    }
  }
  // Spread an order-level discount over tickets is the booking side's business; the
  // ticket carries its list price as quoted in the hold.
  const confirmed: Reservation = { ...r, status: 'CONFIRMED', paymentReference, ticketIds: tickets.map((t) => t.id) };
  const issued: Ticket[] = tickets.map((t) => ({ ...t, reservationId: id, status: 'VALID', checkedInAt: null, gate: null }));
  return {
    events: [{ type: 'ReservationConfirmed', reservationId: id, paymentReference, tickets, at: ctx.now }],
    reply: { ok: true, kind: 'reservation', reservation: confirmed, tickets: issued },
  };
}

export function decide(state: DecideState, cmd: InventoryCommand, ctx: DecideContext): Decision {
  switch (cmd.type) {
    case 'Reserve':
      return decideReserve(state, cmd, ctx);
    case 'Quote': {
      // A dry run of Reserve: the same checks and prices, nothing held.
      const d = decideReserve(state, { ...cmd, type: 'Reserve', reservationId: '', holdSeconds: 0, customerId: null }, ctx);
      return { events: [], reply: d.reply };
    }
    case 'ApplyDiscount':
      return decideApplyDiscount(state, cmd.reservationId, cmd.promoCode, ctx);
    case 'Confirm':
      return decideConfirm(state, cmd.reservationId, cmd.paymentReference, ctx);
    case 'Release': {
      const r = state.reservations[cmd.reservationId];
      if (r) return reservationReply({ ...r, status: 'RELEASED' }, [], [{ type: 'HoldReleased', reservationId: r.id }]);
      const past = pastReservation(state, cmd.reservationId, ctx);
      if (!past) return notFound(cmd.reservationId);
      if ('ok' in past) return { events: [], reply: past };
      const status = past.reservation.status;
      if (status === 'CONFIRMED') return refuse('CONFLICT', 'a confirmed reservation cannot be released', { status });
      return reservationReply(past.reservation, past.tickets);
    }
    case 'Expire': {
      const candidates = cmd.reservationIds
        ? // A listed id may repeat (the expiry queue can hold a hold twice): one HoldExpired each.
          [...new Set(cmd.reservationIds)].map((id) => state.reservations[id]).filter((r): r is Reservation => r !== undefined)
        : Object.values(state.reservations);
      const events = candidates
        .filter((r) => r.expiresAt <= ctx.now)
        .map((r) => ({ type: 'HoldExpired' as const, reservationId: r.id }));
      return { events, reply: { ok: true, kind: 'done' } };
    }
    case 'UpdateCapacity': {
      const level = state.levels[cmd.ticketTypeId];
      if (!level) return refuse('NOT_FOUND', `ticket type ${cmd.ticketTypeId} not found`, { ticket_type_id: cmd.ticketTypeId });
      if (!Number.isInteger(cmd.capacity) || cmd.capacity < 0) return refuse('VALIDATION', 'capacity must be a non-negative integer');
      const committed = level.sold + level.held;
      if (cmd.capacity < committed) {
        return refuse('CONFLICT', `capacity ${cmd.capacity} is below the ${committed} tickets sold or held`, {
          sold_or_held: committed,
          sold: level.sold,
          held: level.held,
        });
      }
      const events = cmd.capacity === level.capacity ? [] : [{ type: 'CapacityChanged' as const, ticketTypeId: cmd.ticketTypeId, capacity: cmd.capacity }];
      return { events, reply: levelsAfter(state, events, ctx) };
    }
    case 'Lock': {
      if (cmd.ticketTypeId !== null && !state.levels[cmd.ticketTypeId]) {
        return refuse('NOT_FOUND', `ticket type ${cmd.ticketTypeId} not found`, { ticket_type_id: cmd.ticketTypeId });
      }
      const current = cmd.ticketTypeId === null ? state.eventLocked : state.levels[cmd.ticketTypeId]?.locked;
      const events = current === cmd.locked ? [] : [{ type: 'SalesLocked' as const, ticketTypeId: cmd.ticketTypeId, locked: cmd.locked, reason: cmd.reason }];
      return { events, reply: levelsAfter(state, events, ctx) };
    }
    case 'CheckIn':
      return decideCheckIn(state, cmd, ctx);
    case 'CancelEvent':
      return decideCancelEvent(state, cmd.reason, ctx);
    case 'VoidTicket':
      return decideVoidTicket(state, cmd.ticketId, cmd.reason, ctx);
    case 'SyncCheckins':
      return decideSyncCheckins(state, cmd.scans, ctx);
    case 'GetCheckinFacts':
      return checkinFacts(state, ctx.catalog);
    case 'SyncCatalog': {
      const events = ctx.catalog.ticketTypes
        .filter((t) => !state.levels[t.id])
        .map((t) => ({ type: 'TicketTypeRegistered' as const, ticketTypeId: t.id, capacity: t.quantity, sold: t.soldQuantity, locked: t.locked }));
      return { events, reply: { ok: true, kind: 'done' } };
    }
    case 'RemoveTicketType': {
      const level = state.levels[cmd.ticketTypeId];
      if (!level) return done;
      if (level.sold + level.held > 0) {
        return refuse('CONFLICT', 'ticket type has sold or held tickets; lock it instead', { sold_or_held: level.sold + level.held });
      }
      return { events: [{ type: 'TicketTypeRemoved', ticketTypeId: cmd.ticketTypeId }], reply: { ok: true, kind: 'done' } };
    }
    case 'Reprice':
      return { events: decideReprice(state, ctx), reply: { ok: true, kind: 'done' } };
    case 'GetPricing':
      return { events: [], reply: { ok: true, kind: 'pricing', version: state.seq, types: pricingViews(state, ctx) } };
    case 'GetLevels':
      return { events: [], reply: levelsReply(state, ctx) };
    case 'GetReservation': {
      const r = state.reservations[cmd.reservationId];
      if (r) return reservationReply(r);
      const past = pastReservation(state, cmd.reservationId, ctx);
      if (past && 'ok' in past) return { events: [], reply: past };
      return past ? reservationReply(past.reservation, past.tickets) : notFound(cmd.reservationId);
    }
    case 'GetTicket': {
      const ticket = state.tickets.get(cmd.ticketId) ?? null;
      const currency = ticket ? state.tickets.currencyOf(ticket.id) : undefined;
      return { events: [], reply: { ok: true, kind: 'ticket', ticket, ...(currency ? { currency } : {}) } };
    }
  }
}

function levelsReply(state: Pick<DecideState, 'levels' | 'eventLocked'>, ctx: DecideContext): Decision['reply'] {
  return { ok: true, kind: 'levels', levels: levelViews(state, ctx.catalog), eventLocked: state.eventLocked };
}

/** Levels as they will be once `events` (capacity/lock changes) apply: evolve on a copy of the small level map. */
function levelsAfter(state: DecideState, events: Decision['events'], ctx: DecideContext): Decision['reply'] {
  const shadow = { levels: Object.fromEntries(Object.entries(state.levels).map(([id, l]) => [id, { ...l }])), eventLocked: state.eventLocked };
  for (const e of events) evolveLevels(shadow, e);
  return levelsReply(shadow, ctx);
}
