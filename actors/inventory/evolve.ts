/**
 * evolve: apply one journal event to the state, in place. Deterministic and free of I/O,
 * so replaying the journal from a snapshot rebuilds exactly the state that decided it.
 * Every branch is idempotent-safe: releasing or expiring a hold that is no longer HELD
 * changes nothing.
 *
 * A hold that closes leaves `reservations` (open holds only) for the compact `closed` set:
 * its status, when it closed at the latest (the confirm's time, else the hold's expiry) and
 * its request fingerprint's hash bits.
 */
import type { InventoryEvent, InventoryState, Level, Reservation, ReservationStatus } from './model.js';
import { applyPricesUpdated, recordSale } from './decidePricing.js';
import { requestHashBits, requestHashOf } from './closedReservations.js';

function releaseHold(state: InventoryState, r: Reservation): void {
  for (const item of r.items) {
    const level = state.levels[item.ticketTypeId];
    if (level) level.held -= item.quantity;
  }
  if (r.promoCode) state.promoUses[r.promoCode] = (state.promoUses[r.promoCode] ?? 1) - 1;
}

function close(state: InventoryState, r: Reservation, status: ReservationStatus, closedAt: number): void {
  delete state.reservations[r.id];
  state.closed.add(r.id, { status, closedAt, requestHash: requestHashBits(requestHashOf(r.requestHash)) });
}

/** The events that change only levels and locks, on anything that has them (decide previews them on a copy). */
export function evolveLevels(state: { levels: Record<string, Level>; eventLocked: boolean }, event: InventoryEvent): void {
  if (event.type === 'CapacityChanged') {
    const level = state.levels[event.ticketTypeId];
    if (level) level.capacity = event.capacity;
  } else if (event.type === 'SalesLocked') {
    if (event.ticketTypeId === null) state.eventLocked = event.locked;
    else {
      const level = state.levels[event.ticketTypeId];
      if (level) level.locked = event.locked;
    }
  }
}

export function evolve(state: InventoryState, event: InventoryEvent): InventoryState {
  switch (event.type) {
    case 'TicketTypeRegistered':
      state.levels[event.ticketTypeId] = { capacity: event.capacity, sold: event.sold, held: 0, locked: event.locked };
      state.pricing.version = state.seq;
      break;
    case 'TicketTypeRemoved':
      delete state.levels[event.ticketTypeId];
      delete state.pricing.prices[event.ticketTypeId];
      delete state.pricing.history[event.ticketTypeId];
      delete state.pricing.sales[event.ticketTypeId];
      delete state.pricing.tiersOpened[event.ticketTypeId];
      state.pricing.version = state.seq;
      break;
    case 'HoldPlaced': {
      const r = event.reservation;
      state.reservations[r.id] = r;
      for (const item of r.items) {
        const level = state.levels[item.ticketTypeId];
        if (level) level.held += item.quantity;
      }
      if (r.promoCode) state.promoUses[r.promoCode] = (state.promoUses[r.promoCode] ?? 0) + 1;
      break;
    }
    case 'HoldReleased':
    case 'HoldExpired': {
      const r = state.reservations[event.reservationId];
      if (r?.status !== 'HELD') break;
      releaseHold(state, r);
      close(state, r, event.type === 'HoldReleased' ? 'RELEASED' : 'EXPIRED', r.expiresAt);
      break;
    }
    case 'ReservationConfirmed': {
      const r = state.reservations[event.reservationId];
      if (r?.status !== 'HELD') break;
      for (const item of r.items) {
        const level = state.levels[item.ticketTypeId];
        if (level) {
          level.held -= item.quantity;
          level.sold += item.quantity;
        }
        if (event.at !== undefined) recordSale(state.pricing, item.ticketTypeId, event.at, item.quantity);
      }
      state.tickets.issue(r.id, r.currency, event.tickets);
      close(state, r, 'CONFIRMED', event.at ?? r.expiresAt);
      break;
    }
    case 'CapacityChanged':
    case 'SalesLocked':
      evolveLevels(state, event);
      break;
    case 'DiscountApplied': {
      const r = state.reservations[event.reservationId];
      if (r?.status !== 'HELD') break;
      if (r.promoCode) state.promoUses[r.promoCode] = (state.promoUses[r.promoCode] ?? 1) - 1;
      state.promoUses[event.promoCode] = (state.promoUses[event.promoCode] ?? 0) + 1;
      state.reservations[r.id] = {
        ...r,
        promoCode: event.promoCode,
        discountMinor: event.discountMinor,
        totalMinor: r.subtotalMinor - event.discountMinor,
      };
      break;
    }
    case 'EventCancelled': {
      if (state.cancelled) break;
      for (const r of Object.values(state.reservations)) {
        if (r.status !== 'HELD') continue;
        releaseHold(state, r);
        close(state, r, 'RELEASED', r.expiresAt);
      }
      state.tickets.voidAll();
      state.cancelled = { reason: event.reason, at: event.at };
      break;
    }
    case 'TicketVoided':
      state.tickets.void(event.ticketId);
      break;
    case 'PricesUpdated':
      applyPricesUpdated(state.pricing, event);
      if (event.changes.length > 0) state.pricing.version = state.seq;
      break;
    case 'TierOpened':
      state.pricing.tiersOpened[event.ticketTypeId] ??= event.at;
      state.pricing.version = state.seq;
      break;
    case 'TicketCheckedIn': {
      const t = state.tickets.get(event.ticketId);
      if (t?.status === 'VALID') state.tickets.checkIn(t.id, event.at, event.gate);
      break;
    }
    case 'OfflineCheckInApplied': {
      // The first scan by scan time stands: a VALID ticket is used as of it, a USED one moves to the earlier scan.
      const t = state.tickets.get(event.ticketId);
      if (t?.status === 'VALID' || (t?.status === 'USED' && (t.checkedInAt ?? Infinity) > event.at)) {
        state.tickets.checkIn(t.id, event.at, event.gate);
      }
      break;
    }
  }
  return state;
}
