/**
 * Dynamic prices and release tiers, decided by the actor (pure, like decide.ts).
 *
 * Prices are inventory state: `Reprice` (first in any turn after a pricing-interval
 * boundary, after a catalog change, or from the actor's pricing timer) asks the engine
 * (the PricingPort) for every ticket type and journals `PricesUpdated` with the changes.
 * Within an interval a price only moves when its catalog facts (base, bounds, rules)
 * change; holds lock the price they were quoted.
 *
 * Release tiers: a ticket type naming `opensAfterSoldOut` waits until that one has nothing
 * left (sold + held = capacity), then `TierOpened` is journaled in the same turn; from then
 * on the predecessor takes no new holds (seats its expired holds give back stay unsold),
 * so there is no moment in which both or neither sell.
 */
import {
  PRICE_HISTORY_MAX,
  SALES_WINDOW_MAX_MS,
  type DecideContext,
  type InventoryEvent,
  type DecideState,
  type PricingState,
  type TicketTypeInfo,
  type TypePricingView,
} from './model.js';
import type { PriceFactor, PricingRuleInfo } from './pricingPort.js';

const enabled = (ctx: Pick<DecideContext, 'pricing'>): boolean => ctx.pricing?.enabled === true;

/** The unit price the next hold of this ticket type locks in. */
export function unitPrice(state: DecideState, info: TicketTypeInfo, ctx: Pick<DecideContext, 'pricing'>): number {
  if (!enabled(ctx)) return info.priceMinor;
  return state.pricing.prices[info.id]?.priceMinor ?? info.priceMinor;
}

/** Until when the current price holds at least: the next boundary, or the end of the type's sale (an early-bird type). */
export function priceValidUntil(info: TicketTypeInfo, ctx: Pick<DecideContext, 'pricing' | 'now'>): number | null {
  const boundary = enabled(ctx) ? (ctx.pricing?.intervalOf(ctx.now).end ?? null) : null;
  if (info.validUntil === null) return boundary;
  return boundary === null ? info.validUntil : Math.min(boundary, info.validUntil);
}

function rulesOf(ctx: DecideContext, typeId: string): PricingRuleInfo[] {
  return (ctx.catalog.pricingRules ?? []).filter((r) => r.ticketTypeId === null || r.ticketTypeId === typeId);
}

/** The catalog facts a price is computed from: when they change, the price is recomputed at once. */
function basisOf(info: TicketTypeInfo, rules: readonly PricingRuleInfo[]): string {
  return JSON.stringify([
    info.priceMinor,
    info.currency,
    info.priceFloorMinor ?? null,
    info.priceCapMinor ?? null,
    rules.map((r) => [r.id, r.name, r.kind, r.threshold, r.adjustmentBps, r.windowSeconds]),
  ]);
}

const sameFactors = (a: readonly PriceFactor[], b: readonly PriceFactor[]): boolean =>
  a.length === b.length && a.every((f, i) => f.ruleId === b[i]?.ruleId && f.name === b[i]?.name && f.adjustmentBps === b[i]?.adjustmentBps && f.why === b[i]?.why);

/**
 * The price changes due now: every ticket type when an interval boundary passed, otherwise
 * only those whose catalog facts changed. One `PricesUpdated` (or none).
 */
export function decideReprice(state: DecideState, ctx: DecideContext): InventoryEvent[] {
  const pricing = ctx.pricing;
  if (!pricing?.enabled) return [];
  const interval = pricing.intervalOf(ctx.now).start;
  const boundary = interval > state.pricing.interval;
  const changes: Extract<InventoryEvent, { type: 'PricesUpdated' }>['changes'][number][] = [];
  let anyRules = false;
  for (const info of ctx.catalog.ticketTypes) {
    const level = state.levels[info.id];
    if (!level) continue;
    const rules = rulesOf(ctx, info.id);
    anyRules ||= rules.length > 0;
    const basis = basisOf(info, rules);
    const current = state.pricing.prices[info.id];
    if (!boundary && current?.basis === basis) continue;
    const result = pricing.price({
      ticketTypeId: info.id,
      baseMinor: info.priceMinor,
      floorMinor: info.priceFloorMinor ?? null,
      capMinor: info.priceCapMinor ?? null,
      eventStartsAt: ctx.catalog.eventStartsAt ?? null,
      now: ctx.now,
      capacity: level.capacity,
      sold: level.sold,
      recentSales: state.pricing.sales[info.id] ?? [],
      rules,
    });
    if (current?.priceMinor === result.priceMinor && current.basis === basis && sameFactors(current.factors, result.factors)) continue;
    changes.push({ ticketTypeId: info.id, priceMinor: result.priceMinor, factors: result.factors, basis });
  }
  // An interval with rules is journaled even when nothing changed: a recovery later in the
  // interval must not recompute (its inputs have moved on since the boundary).
  if (changes.length === 0 && !(boundary && anyRules)) return [];
  return [{ type: 'PricesUpdated', at: ctx.now, interval: boundary ? interval : state.pricing.interval, changes }];
}

/** Release tiers whose predecessor has nothing left: opened now. */
export function decideTiers(state: DecideState, ctx: DecideContext): InventoryEvent[] {
  const events: InventoryEvent[] = [];
  for (const info of ctx.catalog.ticketTypes) {
    const after = info.opensAfterSoldOut;
    if (!after || state.pricing.tiersOpened[info.id] !== undefined || !state.levels[info.id]) continue;
    const predecessor = state.levels[after];
    if (predecessor && predecessor.capacity - predecessor.sold - predecessor.held <= 0) {
      events.push({ type: 'TierOpened', ticketTypeId: info.id, after, at: ctx.now });
    }
  }
  return events;
}

/** Why a release tier refuses holds now: still waiting for its predecessor, or passed on to its successor. */
export function tierRefusal(state: DecideState, info: TicketTypeInfo, ctx: DecideContext): string | undefined {
  if (info.opensAfterSoldOut && state.pricing.tiersOpened[info.id] === undefined) {
    const before = ctx.catalog.ticketTypes.find((t) => t.id === info.opensAfterSoldOut);
    return `${info.name} goes on sale when ${before?.name ?? 'the previous tier'} sells out`;
  }
  const next = ctx.catalog.ticketTypes.find((t) => t.opensAfterSoldOut === info.id && state.pricing.tiersOpened[t.id] !== undefined);
  return next ? `${info.name} is sold out; ${next.name} is on sale` : undefined;
}

/** Sale-status facts of release tiers, for the availability view. */
export function tierState(state: Readonly<DecideState>, info: TicketTypeInfo, catalog: DecideContext['catalog']): 'waiting' | 'passed' | null {
  if (info.opensAfterSoldOut && state.pricing.tiersOpened[info.id] === undefined) return 'waiting';
  return catalog.ticketTypes.some((t) => t.opensAfterSoldOut === info.id && state.pricing.tiersOpened[t.id] !== undefined) ? 'passed' : null;
}

export function pricingViews(state: DecideState, ctx: DecideContext): TypePricingView[] {
  const views: TypePricingView[] = [];
  for (const info of ctx.catalog.ticketTypes) {
    if (!state.levels[info.id] || info.hidden) continue;
    const current = enabled(ctx) ? state.pricing.prices[info.id] : undefined;
    const bounds = enabled(ctx)
      ? ctx.pricing?.price({
          ticketTypeId: info.id, baseMinor: info.priceMinor, floorMinor: info.priceFloorMinor ?? null, capMinor: info.priceCapMinor ?? null,
          eventStartsAt: null, now: ctx.now, capacity: 0, sold: 0, recentSales: [], rules: [],
        })
      : undefined;
    views.push({
      ticketTypeId: info.id,
      name: info.name,
      currency: info.currency,
      baseMinor: info.priceMinor,
      // Without dynamic pricing the price cannot move: the range is the base price.
      floorMinor: bounds?.floorMinor ?? info.priceMinor,
      capMinor: bounds?.capMinor ?? info.priceMinor,
      priceMinor: unitPrice(state, info, ctx),
      factors: current?.factors ?? [],
      history: enabled(ctx) ? (state.pricing.history[info.id] ?? []) : [],
      validUntil: priceValidUntil(info, ctx),
      saleEndsAt: info.validUntil,
      opensAfterSoldOut: info.opensAfterSoldOut ?? null,
      tierOpen: tierState(state, info, ctx.catalog) === null,
    });
  }
  return views;
}

// ── evolve ──────────────────────────────────────────────────────────────────────────

export function applyPricesUpdated(p: PricingState, e: Extract<InventoryEvent, { type: 'PricesUpdated' }>): void {
  p.interval = Math.max(p.interval, e.interval);
  for (const c of e.changes) {
    const before = p.prices[c.ticketTypeId];
    p.prices[c.ticketTypeId] = { priceMinor: c.priceMinor, factors: c.factors, since: e.at, basis: c.basis };
    if (before?.priceMinor === c.priceMinor) continue;
    const history = (p.history[c.ticketTypeId] ??= []);
    history.push([e.at, c.priceMinor]);
    if (history.length > PRICE_HISTORY_MAX) history.splice(0, history.length - PRICE_HISTORY_MAX);
  }
}

/** Count a sale in its one-second bucket; forget buckets older than the longest window. */
export function recordSale(p: PricingState, ticketTypeId: string, at: number, quantity: number): void {
  const second = Math.floor(at / 1000) * 1000;
  const buckets = (p.sales[ticketTypeId] ??= []);
  const last = buckets[buckets.length - 1];
  if (last && last[0] >= second) buckets[buckets.length - 1] = [last[0], last[1] + quantity];
  else buckets.push([second, quantity]);
  const from = second - SALES_WINDOW_MAX_MS;
  let drop = 0;
  while (drop < buckets.length && (buckets[drop] as readonly [number, number])[0] < from) drop++;
  if (drop > 0) buckets.splice(0, drop);
}
