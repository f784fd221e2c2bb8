/** Admin CRUD for an event's pricing rules and promo codes (promo codes are secrets: no public reads). */
import { z } from 'zod';
import { limitSchema } from '../../catalog/cursor.js';
import { currencySchema } from '../../catalog/money.js';
import {
  MAX_DEMAND_THRESHOLD_BPS,
  MAX_WINDOW_SECONDS,
  MIN_WINDOW_SECONDS,
  createPricingRule,
  deletePricingRule,
  listPricingRules,
  updatePricingRule,
} from '../../catalog/pricingRules.js';
import { createPromoCode, deletePromoCode, listPromoCodes, updatePromoCode } from '../../catalog/promoCodes.js';
import { withTransaction } from '../../db/pool.js';
import type { RestDeps } from '../deps.js';
import { requireReadableEvent } from '../eventDetail.js';
import { pricingDisclosureJson, pricingRuleJson, pricingRuleView, promoCodeJson, promoCodeView } from '../pricingViews.js';
import { route, type RouteSpec } from '../route.js';
import { cursor, idParams, isoDate, text, uuid } from '../schemas.js';
import { pageOf } from '../views.js';

const INT4_MAX = 2_147_483_647;
const nonEmpty = (p: object) => Object.keys(p).length > 0;

const ruleShape = {
  name: text(100),
  kind: z.enum(['demand', 'time', 'velocity']),
  threshold: z.number().int().min(0).max(INT4_MAX),
  adjustment_bps: z.number().int().min(-10_000).max(100_000),
  window_seconds: z.number().int().min(MIN_WINDOW_SECONDS).max(MAX_WINDOW_SECONDS).nullable().optional(),
  ticket_type_id: uuid.nullable().optional(),
  active: z.boolean().optional(),
};
const demandThreshold = (r: { kind?: string; threshold?: number }) =>
  r.kind !== 'demand' || r.threshold === undefined || r.threshold <= MAX_DEMAND_THRESHOLD_BPS;
const demandIssue = { message: 'a demand threshold is a sold share in basis points (0..10000)', path: ['threshold'] };
const velocityWindow = (r: { kind?: string; window_seconds?: number | null }) =>
  r.kind !== 'velocity' || (r.window_seconds !== undefined && r.window_seconds !== null);
const windowIssue = { message: `a velocity rule needs window_seconds (${MIN_WINDOW_SECONDS}..${MAX_WINDOW_SECONDS})`, path: ['window_seconds'] };
const onlyVelocityWindow = (r: { kind?: string; window_seconds?: number | null }) =>
  r.kind === undefined || r.kind === 'velocity' || r.window_seconds === undefined || r.window_seconds === null;
const onlyVelocityIssue = { message: 'window_seconds is only for velocity rules', path: ['window_seconds'] };
const ruleBody = z
  .strictObject(ruleShape)
  .refine(demandThreshold, demandIssue)
  .refine(velocityWindow, windowIssue)
  .refine(onlyVelocityWindow, onlyVelocityIssue);
const rulePatch = z
  .strictObject(ruleShape)
  .partial()
  .refine(nonEmpty, { message: 'no fields to update' })
  .refine(demandThreshold, demandIssue)
  .refine(onlyVelocityWindow, onlyVelocityIssue);

const promoShape = {
  code: text(64).refine((v) => /^[A-Za-z0-9_-]+$/.test(v), { message: 'letters, digits, "-" and "_" only' }),
  percent_off_bps: z.number().int().min(1).max(10_000).optional(),
  amount_off_minor: z.number().int().min(1).max(1e12).optional(),
  currency: currencySchema.optional(),
  max_uses: z.number().int().min(1).max(INT4_MAX).nullable().optional(),
  valid_from: isoDate.nullable().optional(),
  valid_until: isoDate.nullable().optional(),
  active: z.boolean().optional(),
};
type PromoFields = Partial<z.infer<z.ZodObject<typeof promoShape>>>;

/** Exactly one discount (at most one in a patch), currency iff amount, window ordered. */
function promoRules(partial: boolean) {
  return (p: PromoFields, ctx: z.RefinementCtx) => {
    const issue = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    if (partial && !nonEmpty(p)) issue('no fields to update', 'body');
    const hasPercent = p.percent_off_bps !== undefined;
    const hasAmount = p.amount_off_minor !== undefined;
    if (hasPercent && hasAmount) issue('give percent_off_bps or amount_off_minor, not both', 'percent_off_bps');
    if (!partial && !hasPercent && !hasAmount) issue('give percent_off_bps or amount_off_minor', 'percent_off_bps');
    if (hasAmount && p.currency === undefined) issue('currency is required with amount_off_minor', 'currency');
    if (!hasAmount && p.currency !== undefined) issue('currency is only allowed with amount_off_minor', 'currency');
    if (p.valid_from && p.valid_until && Date.parse(p.valid_until) <= Date.parse(p.valid_from)) {
      issue('valid_until must be after valid_from', 'valid_until');
    }
  };
}
const promoBody = z.strictObject(promoShape).superRefine(promoRules(false));
const promoPatch = z.strictObject(promoShape).partial().superRefine(promoRules(true));

const listQuery = z.object({ limit: limitSchema, cursor: cursor.optional() });
const ruleParams = z.object({ id: uuid, ruleId: uuid });
const codeParams = z.object({ id: uuid, codeId: uuid });
const deleted = { 204: { description: 'Deleted' } };

export function pricingRoutes({ pool, inventory, log, pricing, caches }: RestDeps): RouteSpec[] {
  /** Promo definitions are catalog facts the inventory actor decides with. */
  const sync = (eventId: string) =>
    inventory.syncCatalog(eventId).catch((err: unknown) => log.warn({ err, eventId }, 'inventory catalog sync failed'));
  /** Rules are catalog facts too: the actor reprices at once, and the disclosure is dropped. */
  const rulesChanged = async (eventId: string) => {
    await sync(eventId);
    await caches.pricing.invalidate(eventId);
  };
  return [
    route({
      method: 'get',
      path: '/events/:id/pricing',
      summary: 'Price disclosure: per ticket type the base price, bounds, current price, factors in force and recent history',
      tag: 'pricing',
      auth: 'public',
      params: idParams,
      responses: { 200: { description: 'The price disclosure', schema: pricingDisclosureJson } },
      handler: async ({ params, isAdmin }) => {
        // A draft's or a cancelled event's prices are for admins only, like the rest of it.
        await requireReadableEvent(pool, caches, params.id, isAdmin);
        return { body: await pricing.disclosure(params.id) };
      },
    }),
    route({
      method: 'get',
      path: '/events/:id/pricing-rules',
      summary: "List an event's pricing rules",
      tag: 'pricing',
      auth: 'admin',
      params: idParams,
      query: listQuery,
      responses: { 200: { description: 'A page of pricing rules', schema: pageOf(pricingRuleJson) } },
      handler: async ({ params, query }) => {
        const page = await listPricingRules(pool, params.id, query);
        return { body: { items: page.items.map(pricingRuleView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'post',
      path: '/events/:id/pricing-rules',
      summary: 'Create a pricing rule',
      tag: 'pricing',
      auth: 'admin',
      params: idParams,
      body: ruleBody,
      responses: { 201: { description: 'Created', schema: pricingRuleJson } },
      handler: async ({ params, body }) => {
        const rule = await createPricingRule(pool, params.id, body);
        await rulesChanged(params.id);
        return { status: 201, body: pricingRuleView(rule) };
      },
    }),
    route({
      method: 'put',
      path: '/events/:id/pricing-rules/:ruleId',
      summary: 'Update a pricing rule (partial)',
      tag: 'pricing',
      auth: 'admin',
      params: ruleParams,
      body: rulePatch,
      responses: { 200: { description: 'Updated', schema: pricingRuleJson } },
      handler: async ({ params, body }) => {
        const rule = await withTransaction(pool, (c) => updatePricingRule(c, params.id, params.ruleId, body));
        await rulesChanged(params.id);
        return { body: pricingRuleView(rule) };
      },
    }),
    route({
      method: 'delete',
      path: '/events/:id/pricing-rules/:ruleId',
      summary: 'Delete a pricing rule',
      tag: 'pricing',
      auth: 'admin',
      params: ruleParams,
      responses: deleted,
      handler: async ({ params }) => {
        await deletePricingRule(pool, params.id, params.ruleId);
        await rulesChanged(params.id);
        return { status: 204 };
      },
    }),
    route({
      method: 'get',
      path: '/events/:id/promo-codes',
      summary: "List an event's promo codes",
      tag: 'pricing',
      auth: 'admin',
      params: idParams,
      query: listQuery,
      responses: { 200: { description: 'A page of promo codes', schema: pageOf(promoCodeJson) } },
      handler: async ({ params, query }) => {
        const page = await listPromoCodes(pool, params.id, query);
        return { body: { items: page.items.map(promoCodeView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'post',
      path: '/events/:id/promo-codes',
      summary: 'Create a promo code (codes are case-insensitive and unique per event)',
      tag: 'pricing',
      auth: 'admin',
      params: idParams,
      body: promoBody,
      responses: { 201: { description: 'Created', schema: promoCodeJson } },
      handler: async ({ params, body }) => {
        const code = await createPromoCode(pool, params.id, body);
        await sync(params.id);
        return { status: 201, body: promoCodeView(code) };
      },
    }),
    route({
      method: 'put',
      path: '/events/:id/promo-codes/:codeId',
      summary: 'Update a promo code (partial; giving one discount kind clears the other)',
      tag: 'pricing',
      auth: 'admin',
      params: codeParams,
      body: promoPatch,
      responses: { 200: { description: 'Updated', schema: promoCodeJson } },
      handler: async ({ params, body }) => {
        const code = await withTransaction(pool, (c) => updatePromoCode(c, params.id, params.codeId, body));
        await sync(params.id);
        return { body: promoCodeView(code) };
      },
    }),
    route({
      method: 'delete',
      path: '/events/:id/promo-codes/:codeId',
      summary: 'Delete a promo code',
      tag: 'pricing',
      auth: 'admin',
      params: codeParams,
      responses: deleted,
      handler: async ({ params }) => {
        await deletePromoCode(pool, params.id, params.codeId);
        await sync(params.id);
        return { status: 204 };
      },
    }),
  ];
}
