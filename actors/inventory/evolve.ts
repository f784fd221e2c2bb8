/**
 * evolve: apply one journal event to the state, in place. Deterministic and free of I/O,
 * so replaying the journal from a snapshot rebuilds exactly the state that decided it.
 * Every branch is idempotent-safe: releasing or expiring a hold that is no longer HELD
 * changes nothing.
 */
import type { InventoryEvent, InventoryState, Reservation } from './model.js';
import { applyPricesUpdated, recordSale } from './decidePricing.js';

function releaseHold(state: InventoryState, r: Reservation): void {
  for (const item of r.items) {
    const level = state.levels[item.ticketTypeId];
    if (level) level.held -= item.quantity;
  }
  if (r.promoCode) state.promoUses[r.promoCode] = (state.promoUses[r.promoCode] ?? 1) - 1;
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
      state.reservations[r.id] = { ...r, status: event.type === 'HoldReleased' ? 'RELEASED' : 'EXPIRED' };
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
      for (const t of event.tickets) {
        state.tickets[t.id] = {
          id: t.id,
          ticketTypeId: t.ticketTypeId,
          reservationId: r.id,
          priceMinor: t.priceMinor,
          status: 'VALID',
          checkedInAt: null,
          gate: null,
        };
      }
      state.reservations[r.id] = {
        ...r,
        status: 'CONFIRMED',
        paymentReference: event.paymentReference,
        ticketIds: event.tickets.map((t) => t.id),
      };
      break;
    }
    case 'CapacityChanged': {
      const level = state.levels[event.ticketTypeId];
      if (level) level.capacity = event.capacity;
      break;
    }
    case 'SalesLocked':
      if (event.ticketTypeId === null) state.eventLocked = event.locked;
      else {
        const level = state.levels[event.ticketTypeId];
        if (level) level.locked = event.locked;
      }
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
        state.reservations[r.id] = { ...r, status: 'RELEASED' };
      }
      for (const t of Object.values(state.tickets)) if (t.status !== 'VOID') state.tickets[t.id] = { ...t, status: 'VOID' };
      state.cancelled = { reason: event.reason, at: event.at };
      break;
    }
    case 'TicketVoided': {
      const t = state.tickets[event.ticketId];
      if (t && t.status !== 'VOID') state.tickets[t.id] = { ...t, status: 'VOID' };
      break;
    }
    case 'PricesUpdated':
      applyPricesUpdated(state.pricing, event);
      if (event.changes.length > 0) state.pricing.version = state.seq;
      break;
    case 'TierOpened':
      state.pricing.tiersOpened[event.ticketTypeId] ??= event.at;
      state.pricing.version = state.seq;
      break;
    case 'TicketCheckedIn': {
      const t = state.tickets[event.ticketId];
      if (t?.status === 'VALID') state.tickets[t.id] = { ...t, status: 'USED', checkedInAt: event.at, gate: event.gate };
      break;
    }
    case 'OfflineCheckInApplied': {
      // The first scan by scan time stands: a VALID ticket is used as of it, a USED one moves to the earlier scan.
      const t = state.tickets[event.ticketId];
      if (t?.status === 'VALID' || (t?.status === 'USED' && (t.checkedInAt ?? Infinity) > event.at)) {
        state.tickets[t.id] = { ...t, status: 'USED', checkedInAt: event.at, gate: event.gate };
      }
      break;
    }
  }
  return state;
}
