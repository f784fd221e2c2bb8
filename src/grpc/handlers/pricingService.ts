/**
 * ticket.PricingService. Prices are the event actor's current dynamic prices (base prices
 * when DYNAMIC_PRICING_ENABLED=false), with promo codes applied on top as the actor applies
 * them on reserve (CalculatePrice is a dry-run reserve: same checks, same arithmetic,
 * nothing held). GetDynamicPricing reads the cached price disclosure. Prices of a draft or
 * cancelled event are for admins only (NOT_FOUND for anyone else).
 */
import { listPricingRules } from '../../catalog/pricingRules.js';
import { listPromoCodes } from '../../catalog/promoCodes.js';
import { NotFoundError } from '../../errors.js';
import type { MoneyJson } from '../../catalog/money.js';
import { unary } from '../call.js';
import { money, reservationMessage, timestamp } from '../convert.js';
import type { PricingServiceHandlers } from '../generated/ticket/PricingService.js';
import type { HandlerDeps } from './deps.js';
import { isAdmin, optionalText, required, requiredId } from './validate.js';

/** Enough of a code to recognise it, never enough to use it. */
export function maskCode(code: string): string {
  const shown = Math.min(2, Math.floor(code.length / 3));
  return code.slice(0, shown) + '*'.repeat(Math.max(4, code.length - shown));
}

/** Spread an order discount over lines in proportion to their totals (largest remainder). */
function spread(discount: number, lineTotals: readonly number[]): number[] {
  const subtotal = lineTotals.reduce((a, b) => a + b, 0);
  if (subtotal === 0 || discount === 0) return lineTotals.map(() => 0);
  const shares = lineTotals.map((t) => Math.floor((discount * t) / subtotal));
  let rest = discount - shares.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % shares.length, rest--) shares[i] = (shares[i] ?? 0) + 1;
  return shares;
}

export function pricingServiceHandlers({ pool, inventory, pricing, requireReadableEvent }: HandlerDeps): PricingServiceHandlers {
  return {
    CalculatePrice: unary('public', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      const items = req.items.map((i, n) => ({ ticketTypeId: requiredId(i.ticket_type_id, `items[${n}].ticket_type_id`), quantity: i.quantity }));
      const promoCode = optionalText(req.promo_code, 'promo_code', 64) ?? null;
      await requireReadableEvent(eventId, isAdmin(ctx));
      const quote = await inventory.as(ctx.caller).quote(eventId, items, promoCode);
      const totals = quote.items.map((i) => i.quantity * i.unitPriceMinor);
      const discounts = spread(quote.discountMinor, totals);
      return {
        lines: quote.items.map((i, n) => ({
          ticket_type_id: i.ticketTypeId,
          quantity: i.quantity,
          unit_price: money(i.unitPriceMinor, quote.currency),
          discount: money(discounts[n] ?? 0, quote.currency),
          total: money((totals[n] ?? 0) - (discounts[n] ?? 0), quote.currency),
        })),
        subtotal: money(quote.subtotalMinor, quote.currency),
        discount: money(quote.discountMinor, quote.currency),
        total: money(quote.totalMinor, quote.currency),
      };
    }),

    GetPricingRules: unary('public', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      await requireReadableEvent(eventId, isAdmin(ctx));
      const [rules, codes] = await Promise.all([
        listPricingRules(pool, eventId, { limit: 100 }),
        listPromoCodes(pool, eventId, { limit: 100 }),
      ]);
      return {
        rules: rules.items.map((r) => ({
          id: r.id,
          ticket_type_id: r.ticketTypeId ?? '',
          name: r.name,
          kind: r.kind,
          threshold: r.threshold,
          adjustment_bps: r.adjustmentBps,
          window_seconds: r.windowSeconds ?? 0,
          active: r.active,
        })),
        promo_codes: codes.items.map((p) => ({
          id: p.id,
          code_masked: maskCode(p.code),
          percent_off_bps: p.percentOffBps ?? 0,
          amount_off: p.amountOff ? money(p.amountOff.amountMinor, p.amountOff.currency) : null,
          max_uses: p.maxUses ?? 0,
          used_count: p.usedCount,
          active: p.active,
        })),
      };
    }),

    ApplyDiscount: unary('write', async (req, ctx) => ({
      reservation: reservationMessage(
        await inventory.as(ctx.caller).applyDiscount(requiredId(req.event_id, 'event_id'), requiredId(req.reservation_id, 'reservation_id'), required(req.promo_code, 'promo_code', 64)),
      ),
    })),

    GetDynamicPricing: unary('public', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      const ticketTypeId = requiredId(req.ticket_type_id, 'ticket_type_id');
      await requireReadableEvent(eventId, isAdmin(ctx));
      const type = (await pricing.disclosure(eventId)).ticket_types.find((t) => t.ticket_type_id === ticketTypeId);
      if (!type) throw new NotFoundError('ticket type', ticketTypeId);
      const asMoney = (m: MoneyJson) => money(m.amount_minor, m.currency);
      return {
        base_price: asMoney(type.base_price),
        current_price: asMoney(type.current_price),
        factors: type.factors.map((f) => ({ name: f.name, adjustment_bps: f.adjustment_bps, reason: f.why, rule_id: f.rule_id, kind: f.kind })),
        valid_until: type.valid_until === null ? null : timestamp(new Date(type.valid_until)),
        price_floor: asMoney(type.price_floor),
        price_cap: asMoney(type.price_cap),
        history: type.history.map((h) => ({ at: timestamp(new Date(h.at)), price: asMoney(h.price) })),
      };
    }),
  };
}
