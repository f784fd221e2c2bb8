/**
 * Price disclosure reads (REST `GET /events/:id/pricing`, gRPC GetDynamicPricing): per ticket
 * type the base price, the bounds, the current price, the factors in force and the recent
 * history, as the event's actor holds them.
 *
 * The pricing cache: the actor's answer is cached per event like the other read models
 * (in-process LRU + Redis, jsonCache.ts). It is dropped on every pod whenever the event's
 * pricing version moves (a price change, at an interval boundary or at once after a rule
 * or base-price change; a release tier opening; a ticket type added or removed), which this
 * pod learns from the availability views its actors project. `valid_until` depends on the
 * clock, so it is worked out at read time, never cached.
 */
import { LRUCache } from 'lru-cache';
import type { TypePricingView } from '../../actors/inventory/model.js';
import type { JsonCache } from '../cache/jsonCache.js';
import { money, type MoneyJson } from '../catalog/money.js';
import type { InventoryService } from '../inventory/inventoryService.js';
import type { AvailabilityJson } from '../inventory/availabilityView.js';
import { priceInterval } from './engine.js';

export interface PriceFactorJson {
  readonly rule_id: string;
  /** The rule's name (its kind for a factor recorded before names were). */
  readonly name: string;
  readonly kind: string;
  readonly adjustment_bps: number;
  readonly why: string;
}

export interface TypePricingJson {
  readonly ticket_type_id: string;
  readonly name: string;
  readonly base_price: MoneyJson;
  readonly price_floor: MoneyJson;
  readonly price_cap: MoneyJson;
  readonly current_price: MoneyJson;
  readonly factors: readonly PriceFactorJson[];
  readonly history: readonly { readonly at: string; readonly price: MoneyJson }[];
  readonly valid_until: string | null;
  readonly opens_after_sold_out: string | null;
  readonly tier_open: boolean;
}

export interface PricingDisclosureJson {
  readonly event_id: string;
  readonly dynamic_pricing: boolean;
  readonly update_interval_seconds: number;
  readonly ticket_types: readonly TypePricingJson[];
}

interface CachedPricing {
  readonly version: number;
  readonly types: readonly TypePricingView[];
}

export interface PricingReads {
  disclosure(eventId: string): Promise<PricingDisclosureJson>;
  /** Feed this pod's projected availability views: a moved pricing version drops the event's cached disclosure. */
  observe(view: AvailabilityJson): void;
}

/** Events whose last pricing version this pod remembers (older ones are simply dropped again when they move). */
const WATCHED_EVENTS = 10_000;

export function createPricingReads(options: {
  readonly inventory: InventoryService;
  readonly cache: JsonCache<object>;
  readonly enabled: boolean;
  readonly intervalSeconds: number;
  readonly clock?: () => number;
  readonly onDropFailed?: (err: unknown) => void;
}): PricingReads {
  const clock = options.clock ?? Date.now;
  const seen = new LRUCache<string, number>({ max: WATCHED_EVENTS });

  function validUntil(t: TypePricingView, now: number): string | null {
    const boundary = options.enabled ? priceInterval(now, options.intervalSeconds).end : null;
    const end = t.saleEndsAt === null ? boundary : boundary === null ? t.saleEndsAt : Math.min(boundary, t.saleEndsAt);
    return end === null ? null : new Date(end).toISOString();
  }

  function view(eventId: string, doc: CachedPricing): PricingDisclosureJson {
    const now = clock();
    return {
      event_id: eventId,
      dynamic_pricing: options.enabled,
      update_interval_seconds: options.intervalSeconds,
      ticket_types: doc.types.map((t) => ({
        ticket_type_id: t.ticketTypeId,
        name: t.name,
        base_price: money(t.baseMinor, t.currency),
        price_floor: money(t.floorMinor, t.currency),
        price_cap: money(t.capMinor, t.currency),
        current_price: money(t.priceMinor, t.currency),
        factors: t.factors.map((f) => ({ rule_id: f.ruleId, name: f.name ?? f.kind, kind: f.kind, adjustment_bps: f.adjustmentBps, why: f.why })),
        history: t.history.map(([at, price]) => ({ at: new Date(at).toISOString(), price: money(price, t.currency) })),
        valid_until: validUntil(t, now),
        opens_after_sold_out: t.opensAfterSoldOut,
        tier_open: t.tierOpen,
      })),
    };
  }

  return {
    async disclosure(eventId) {
      const load = async (): Promise<CachedPricing> => options.inventory.pricing(eventId);
      // Without dynamic pricing a base-price change moves no pricing version: ask the actor each time.
      const doc = options.enabled ? ((await options.cache.getOrLoad(eventId, load)) as CachedPricing) : await load();
      return view(eventId, doc);
    },
    observe(v) {
      if (v.pricing_version === undefined) return;
      const before = seen.get(v.event_id);
      seen.set(v.event_id, v.pricing_version);
      if (before !== undefined && before !== v.pricing_version) {
        options.cache.invalidate(v.event_id).catch((err: unknown) => options.onDropFailed?.(err));
      }
    },
  };
}
