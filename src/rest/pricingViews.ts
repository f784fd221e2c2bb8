/** JSON shapes of pricing rules and promo codes (snake_case, money with display strings). */
import { z } from 'zod';
import { money, moneySchema } from '../catalog/money.js';
import type { PricingRule } from '../catalog/pricingRules.js';
import type { PromoCode } from '../catalog/promoCodes.js';

export const pricingRuleJson = z.object({
  id: z.string(),
  event_id: z.string(),
  ticket_type_id: z.string().nullable(),
  name: z.string(),
  kind: z.enum(['demand', 'time', 'velocity']),
  threshold: z.number().int(),
  adjustment_bps: z.number().int(),
  window_seconds: z.number().int().nullable(),
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PricingRuleJson = z.infer<typeof pricingRuleJson>;

export function pricingRuleView(r: PricingRule): PricingRuleJson {
  return {
    id: r.id,
    event_id: r.eventId,
    ticket_type_id: r.ticketTypeId,
    name: r.name,
    kind: r.kind,
    threshold: r.threshold,
    adjustment_bps: r.adjustmentBps,
    window_seconds: r.windowSeconds,
    active: r.active,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export const promoCodeJson = z.object({
  id: z.string(),
  event_id: z.string(),
  code: z.string(),
  percent_off_bps: z.number().int().nullable(),
  amount_off: moneySchema.nullable(),
  max_uses: z.number().int().nullable(),
  used_count: z.number().int(),
  valid_from: z.string().nullable(),
  valid_until: z.string().nullable(),
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PromoCodeJson = z.infer<typeof promoCodeJson>;

export function promoCodeView(p: PromoCode): PromoCodeJson {
  return {
    id: p.id,
    event_id: p.eventId,
    code: p.code,
    percent_off_bps: p.percentOffBps,
    amount_off: p.amountOff ? money(p.amountOff.amountMinor, p.amountOff.currency) : null,
    max_uses: p.maxUses,
    used_count: p.usedCount,
    valid_from: p.validFrom?.toISOString() ?? null,
    valid_until: p.validUntil?.toISOString() ?? null,
    active: p.active,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export const pricingDisclosureJson = z.object({
  event_id: z.string(),
  dynamic_pricing: z.boolean(),
  update_interval_seconds: z.number().int(),
  ticket_types: z.array(
    z.object({
      ticket_type_id: z.string(),
      name: z.string(),
      base_price: moneySchema,
      price_floor: moneySchema,
      price_cap: moneySchema,
      current_price: moneySchema,
      factors: z.array(z.object({ rule_id: z.string(), name: z.string(), kind: z.string(), adjustment_bps: z.number().int(), why: z.string() })),
      history: z.array(z.object({ at: z.string(), price: moneySchema })),
      valid_until: z.string().nullable(),
      opens_after_sold_out: z.string().nullable(),
      tier_open: z.boolean(),
    }),
  ),
});
