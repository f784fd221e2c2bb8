/**
 * Promo codes in decisions, split from decide.ts: the discount a code gives (with its
 * window, currency and use limit) and re-pricing an open hold with a code. Pure.
 */
import type { Decision, DecideContext, DecideState, Refusal, Reservation } from './model.js';
import { pastReservation } from './pastReservations.js';

/**
 * The discount a promo code gives on `subtotal`, or the refusal. `ownCode` is the code the
 * reservation already holds a use of (re-applying it needs no extra use).
 */
export function promoDiscount(
  state: DecideState,
  ctx: DecideContext,
  requested: string,
  subtotal: number,
  currency: string,
  ownCode: string | null,
): { discount: number; code: string } | Refusal {
  const code = requested.toUpperCase();
  const promo = ctx.catalog.promos.find((p) => p.code === code);
  const inWindow = promo && (promo.validFrom === null || ctx.now >= promo.validFrom) && (promo.validUntil === null || ctx.now < promo.validUntil);
  if (!promo || !promo.active || !inWindow || (promo.amountOffMinor !== null && promo.currency !== currency)) {
    return { ok: false, code: 'PROMO_UNAVAILABLE', message: 'promo code is not valid for this purchase', details: { promo_code: requested } };
  }
  const used = promo.usedBefore + (state.promoUses[code] ?? 0) - (ownCode === code ? 1 : 0);
  if (promo.maxUses !== null && used >= promo.maxUses) {
    return { ok: false, code: 'PROMO_UNAVAILABLE', message: 'promo code has no uses left', details: { promo_code: requested } };
  }
  const discount =
    promo.percentOffBps !== null ? Math.floor((subtotal * promo.percentOffBps) / 10_000) : Math.min(promo.amountOffMinor ?? 0, subtotal);
  return { discount, code };
}

export function decideApplyDiscount(state: DecideState, id: string, requested: string, ctx: DecideContext): Decision {
  const r = state.reservations[id];
  if (!r || r.expiresAt <= ctx.now) {
    const past = r ? undefined : pastReservation(state, id, ctx);
    if (past && 'ok' in past) return { events: [], reply: past };
    const status = r?.status ?? past?.reservation.status;
    if (status === undefined) return { events: [], reply: { ok: false, code: 'NOT_FOUND', message: `reservation ${id} not found`, details: { reservation_id: id } } };
    return { events: [], reply: { ok: false, code: 'HOLD_EXPIRED', message: `reservation ${id} is not an open hold`, details: { status } } };
  }
  const promo = promoDiscount(state, ctx, requested, r.subtotalMinor, r.currency, r.promoCode);
  if ('ok' in promo) return { events: [], reply: promo };
  const repriced: Reservation = { ...r, promoCode: promo.code, discountMinor: promo.discount, totalMinor: r.subtotalMinor - promo.discount };
  return {
    events: [{ type: 'DiscountApplied', reservationId: id, promoCode: promo.code, discountMinor: promo.discount }],
    reply: { ok: true, kind: 'reservation', reservation: repriced, tickets: [] },
  };
}

