/**
 * Deterministic demo catalog for `ticketctl seed` and `npm run dev`: a pure function of
 * (event count, PRNG seed, now). No I/O and no ids: rows refer to each other by
 * position (venue index) and by nesting (an event owns its ticket types, pricing rules
 * and promo codes); the writer assigns UUIDs.
 */
import { CATEGORIES, SCHEDULE, TICKET_TIERS, VENUES, WORDS, type Category, type VenueTemplate } from './seedCatalog.js';

export interface SeedTicketType {
  readonly name: string;
  readonly description: string;
  readonly price_minor: number;
  readonly currency: string;
  readonly quantity: number;
  readonly available_quantity: number;
  readonly min_per_purchase: number;
  readonly max_per_purchase: number;
  readonly valid_from: Date | null;
  readonly valid_until: Date | null;
}

export interface SeedPricingRule {
  readonly name: string;
  readonly kind: 'demand' | 'time' | 'velocity';
  readonly threshold: number;
  readonly adjustment_bps: number;
  /** velocity rules only. */
  readonly window_seconds: number | null;
}

export interface SeedPromoCode {
  readonly code: string;
  readonly percent_off_bps: number | null;
  readonly amount_off_minor: number | null;
  readonly currency: string | null;
  readonly max_uses: number | null;
  readonly valid_until: Date | null;
}

export interface SeedEvent {
  /** Index into SeedData.venues. */
  readonly venueIndex: number;
  readonly title: string;
  readonly description: string;
  readonly category: Category;
  readonly start_date: Date;
  readonly end_date: Date;
  readonly featured: boolean;
  readonly max_capacity: number;
  readonly ticketTypes: readonly SeedTicketType[];
  readonly pricingRules: readonly SeedPricingRule[];
  readonly promoCodes: readonly SeedPromoCode[];
}

export interface SeedData {
  readonly venues: readonly VenueTemplate[];
  readonly events: readonly SeedEvent[];
}

export interface SeedOptions {
  readonly events: number;
  /** PRNG seed; the same (events, seed, now) always gives the same data. */
  readonly seed?: number;
  readonly now: Date;
}

export const DEFAULT_SEED = 20_240_601;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const HORIZON_DAYS = 180;
export const MIN_PRICE_MINOR = 2500;
export const MAX_PRICE_MINOR = 25_000;

/** mulberry32: a tiny, fast 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Round to a multiple of 50 minor units and clamp into the demo price range. */
function price(minor: number): number {
  return Math.min(MAX_PRICE_MINOR, Math.max(MIN_PRICE_MINOR, Math.round(minor / 50) * 50));
}

function titleFor(category: Category, rng: Rng, city: string, year: number): string {
  const band = () => `The ${rng.pick(WORDS.adjectives)} ${rng.pick(WORDS.nouns)}`;
  switch (category) {
    case 'concerts':
      return rng.chance(0.5) ? `${band()}: ${rng.pick(WORDS.tours)} Tour` : `${rng.pick(WORDS.people)} Live`;
    case 'theatre':
      return rng.pick(WORDS.plays);
    case 'sports': {
      const home = rng.pick(WORDS.teams);
      const away = rng.pick(WORDS.teams.filter((t) => t !== home));
      return `${home} vs ${away}`;
    }
    case 'comedy':
      return `${rng.pick(WORDS.people)}: ${rng.pick(['Stand-Up Night', 'Unfiltered', 'Late Show', 'Work in Progress'])}`;
    case 'festivals':
      return `${city} ${rng.pick(WORDS.festivals)} Festival ${year}`;
    case 'conferences':
      return `${rng.pick(WORDS.topics)} Summit ${year}`;
    case 'family':
      return rng.pick(WORDS.family);
    case 'dance':
      return rng.pick(WORDS.dance);
  }
}

function ticketTypesFor(rng: Rng, venue: VenueTemplate, start: Date, now: Date): SeedTicketType[] {
  const base = rng.int(MIN_PRICE_MINOR / 50, 12_000 / 50) * 50;
  const extras = [...TICKET_TIERS].filter(() => rng.chance(0.45)).slice(0, 3);
  const tiers = [{ name: 'General Admission', multiplierBps: 10_000, share: 0.6, description: 'Standard entry.' }, ...extras];
  const earlyBirdEnds = start.getTime() - 14 * DAY_MS;
  return tiers.map((tier) => {
    const quantity = Math.max(10, Math.floor((venue.capacity * tier.share) / 10) * 10);
    const earlyBird = tier.name === 'Early Bird' && earlyBirdEnds > now.getTime() + DAY_MS;
    return {
      name: tier.name,
      description: tier.description,
      price_minor: price((base * tier.multiplierBps) / 10_000),
      currency: venue.currency,
      quantity,
      available_quantity: quantity,
      min_per_purchase: 1,
      max_per_purchase: rng.int(4, 10),
      valid_from: null,
      valid_until: earlyBird ? new Date(earlyBirdEnds) : null,
    };
  });
}

function eventAt(index: number, rng: Rng, now: Date): SeedEvent {
  const venueIndex = rng.int(0, VENUES.length - 1);
  const venue = VENUES[venueIndex];
  if (!venue) throw new Error(`no venue at ${venueIndex}`);
  const category = rng.pick(CATEGORIES);
  const schedule = SCHEDULE[category];
  const midnight = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const startMs = midnight + rng.int(1, HORIZON_DAYS - 1) * DAY_MS + rng.pick(schedule.hours) * HOUR_MS;
  const start = new Date(startMs);
  const end = new Date(startMs + rng.pick(schedule.durationHours) * HOUR_MS);
  const title = titleFor(category, rng, venue.city, start.getUTCFullYear());
  const featured = rng.chance(0.15);
  const ticketTypes = ticketTypesFor(rng, venue, start, now);
  // Rules that act on the demo at once: far-off events show an early-bird price, close ones
  // a last-week surcharge; sales move demand and velocity (see docs/pricing.md).
  const pricingRules: SeedPricingRule[] = [
    { name: 'Early bird', kind: 'time', threshold: 60 * 86_400, adjustment_bps: -1500, window_seconds: null },
    { name: 'Last 7 days', kind: 'time', threshold: 7 * 86_400, adjustment_bps: 1000, window_seconds: null },
    { name: 'Selling fast', kind: 'velocity', threshold: 20, adjustment_bps: 1500, window_seconds: 600 },
  ];
  if (featured || index % 3 === 0) pricingRules.push({ name: 'High demand', kind: 'demand', threshold: 5000, adjustment_bps: 2500, window_seconds: null });
  const promoCodes: SeedPromoCode[] = [];
  if (index % 8 === 0) {
    promoCodes.push({ code: 'WELCOME10', percent_off_bps: 1000, amount_off_minor: null, currency: null, max_uses: 500, valid_until: start });
  }
  if (index % 12 === 5) {
    promoCodes.push({ code: 'SAVE5', percent_off_bps: null, amount_off_minor: 500, currency: venue.currency, max_uses: 100, valid_until: start });
  }
  return {
    venueIndex,
    title,
    description: `${title} at ${venue.name}, ${venue.city}. A ${category} event; doors open one hour before the start.`,
    category,
    start_date: start,
    end_date: end,
    featured,
    max_capacity: venue.capacity,
    ticketTypes,
    pricingRules,
    promoCodes,
  };
}

/** Build the demo catalog. Pure: no clock, no randomness beyond `seed`. */
export function generateSeedData(options: SeedOptions): SeedData {
  if (!Number.isSafeInteger(options.events) || options.events < 0) {
    throw new RangeError('events must be a non-negative integer');
  }
  const rng = new Rng(options.seed ?? DEFAULT_SEED);
  const events = Array.from({ length: options.events }, (_, i) => eventAt(i, rng, options.now));
  return { venues: VENUES, events };
}
