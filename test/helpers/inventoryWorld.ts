/**
 * The fixed world and command generators behind the inventory property tests
 * (inventoryInvariants.test.ts, inventoryBehaviour.test.ts): random command sequences
 * against a small catalog, applied exactly as the actor does:
 * `d = decide(state, cmd, ctx); for (e of d.events) { state.seq += 1; evolve(state, e) }`.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { CatalogInfo } from '../../actors/inventory/model.js';

// ── Fixed world ─────────────────────────────────────────────────────────────────────

export const EVENT_ID = '6f1c2d3e-0000-4000-8000-00000000e001';
export const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
export const MIN = 60_000;
export const CAPPED = 'SAVE10';
export const CAP = 3;

export interface TypeDef {
  readonly id: string;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
}

export const TYPES: readonly TypeDef[] = [
  { id: '0a000000-0000-4000-8000-0000000000a1', name: 'General', min: 1, max: 4, validFrom: null, validUntil: null },
  { id: '0b000000-0000-4000-8000-0000000000b2', name: 'VIP', min: 2, max: 6, validFrom: null, validUntil: null },
  // On sale from T0+2min until T0+4h.
  { id: '0c000000-0000-4000-8000-0000000000c3', name: 'Early bird', min: 1, max: 10, validFrom: T0 + 2 * MIN, validUntil: T0 + 240 * MIN },
];
/** Index 3 in generated steps = a ticket type the catalog does not know. */
export const UNKNOWN_TYPE = '0d000000-0000-4000-8000-0000000000d4';
export const typeId = (i: number): string => TYPES[i]?.id ?? UNKNOWN_TYPE;

export const RIDS = Array.from({ length: 8 }, (_, i) => `5e000000-0000-4000-8000-00000000000${i}`);
export const rid = (i: number): string => RIDS[i % RIDS.length] as string;

/** Deterministic uuid-shaped ticket id for the i-th ticket of a reservation. */
export const ticketId = (reservationId: string, index: number): string => {
  const h = createHash('sha256').update(`${reservationId}#${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export interface Setup {
  readonly types: readonly { readonly capacity: number; readonly sold: number; readonly price: number; readonly locked: boolean }[];
  /** Catalog `used_count` of the capped promo before the actor existed. */
  readonly usedBefore: number;
}

export function catalogOf(setup: Setup, prices: readonly number[]): CatalogInfo {
  return {
    eventStatus: 'active',
    ticketTypes: TYPES.map((d, i) => ({
      id: d.id,
      name: d.name,
      priceMinor: prices[i] as number,
      currency: 'EUR',
      minPerPurchase: d.min,
      maxPerPurchase: d.max,
      validFrom: d.validFrom,
      validUntil: d.validUntil,
      quantity: setup.types[i]?.capacity ?? 0,
      soldQuantity: setup.types[i]?.sold ?? 0,
      locked: setup.types[i]?.locked ?? false,
      hidden: false,
      gates: [],
    })),
    promos: [
      { code: CAPPED, percentOffBps: 1000, amountOffMinor: null, currency: null, maxUses: CAP, usedBefore: setup.usedBefore, validFrom: null, validUntil: null, active: true },
      { code: 'FIVEOFF', percentOffBps: null, amountOffMinor: 2500, currency: 'EUR', maxUses: null, usedBefore: 0, validFrom: null, validUntil: null, active: true },
      { code: 'DEAD', percentOffBps: 5000, amountOffMinor: null, currency: null, maxUses: null, usedBefore: 0, validFrom: null, validUntil: null, active: false },
    ],
  };
}

// ── Generated steps ─────────────────────────────────────────────────────────────────

export type Step =
  | {
      readonly k: 'reserve';
      readonly rid: number;
      readonly items: readonly { readonly type: number; readonly quantity: number }[];
      readonly holdSeconds: number;
      readonly promo: string | null;
      readonly customer: string | null;
    }
  /** Resend an earlier Reserve command verbatim (a client retry). */
  | { readonly k: 'retry'; readonly back: number }
  /** known: pick among the reservations that exist (rid mod count) rather than from the whole pool. */
  | { readonly k: 'release'; readonly rid: number; readonly known: boolean }
  | { readonly k: 'confirm'; readonly rid: number; readonly known: boolean; readonly payment: string | null }
  /** ids: the expiry queue's list (picked like Confirm's ids, duplicates possible), or null = every due hold. */
  | { readonly k: 'expire'; readonly ids: readonly { readonly rid: number; readonly known: boolean }[] | null }
  /** A price quote: Reserve's checks, nothing held. */
  | { readonly k: 'quote'; readonly items: readonly { readonly type: number; readonly quantity: number }[]; readonly promo: string | null }
  /** Re-price an open hold with a promo code ('own': the code the hold already uses, else SAVE10). */
  | { readonly k: 'discount'; readonly rid: number; readonly known: boolean; readonly promo: string }
  /** capacity: absolute value, or (relative) sold + held + delta. */
  | { readonly k: 'capacity'; readonly type: number; readonly relative: boolean; readonly value: number }
  | { readonly k: 'lock'; readonly type: number | null; readonly locked: boolean }
  /** A ticket picked from the issued ones (pick mod count), or an unknown id. */
  | { readonly k: 'checkin'; readonly pick: number; readonly unknown: boolean; readonly gate: string }
  | { readonly k: 'tick'; readonly ms: number }
  /** Jump to the next hold expiry (plus offset ms), to hit the expiresAt boundary exactly. */
  | { readonly k: 'toExpiry'; readonly offset: number }
  /** Dynamic pricing: the catalog list price moves. */
  | { readonly k: 'price'; readonly type: number; readonly price: number }
  | { readonly k: 'remove'; readonly type: number }
  | { readonly k: 'sync' }
  | { readonly k: 'query'; readonly what: 'levels' | 'reservation' | 'ticket'; readonly rid: number };

export const priceArb = fc.integer({ min: 100, max: 6000 });
export const typeIdxArb = fc.oneof({ weight: 19, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constant(3) });
export const ridArb = fc.integer({ min: 0, max: RIDS.length - 1 });
export const knownArb = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

export const setupArb: fc.Arbitrary<Setup> = fc.record({
  types: fc.tuple(
    ...TYPES.map(() =>
      fc.integer({ min: 1, max: 20 }).chain((capacity) =>
        fc.record({
          capacity: fc.constant(capacity),
          sold: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: capacity }) }),
          price: priceArb,
          locked: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        }),
      ),
    ),
  ),
  usedBefore: fc.integer({ min: 0, max: CAP }),
});

export const quantityArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 2, arbitrary: fc.integer({ min: 5, max: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 11, 25, 2.5) },
);
export const holdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 120 }) },
  { weight: 6, arbitrary: fc.integer({ min: 121, max: 3600 }) },
  { weight: 1, arbitrary: fc.constantFrom(-5, 3601, 1.5) },
);

export const itemsArb = fc.oneof(
  { weight: 10, arbitrary: fc.array(fc.record({ type: typeIdxArb, quantity: quantityArb }), { minLength: 1, maxLength: 1 }) },
  { weight: 4, arbitrary: fc.uniqueArray(fc.record({ type: typeIdxArb, quantity: quantityArb }), { minLength: 2, maxLength: 2, selector: (i) => i.type }) },
  { weight: 1, arbitrary: fc.array(fc.record({ type: typeIdxArb, quantity: quantityArb }), { minLength: 0, maxLength: 3 }) },
);
export const promoCodeArb = fc.constantFrom(CAPPED, 'save10', 'FIVEOFF', 'fiveoff', 'DEAD', 'NOPE');
export const promoArb = fc.option(promoCodeArb, { freq: 2 });

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      k: fc.constant('reserve' as const),
      rid: ridArb,
      items: itemsArb,
      holdSeconds: holdArb,
      promo: promoArb,
      customer: fc.option(fc.constantFrom('cust-1', 'cust-2'), { freq: 3 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('retry' as const), back: fc.nat({ max: 20 }) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('release' as const), rid: ridArb, known: knownArb }) },
  { weight: 12, arbitrary: fc.record({ k: fc.constant('confirm' as const), rid: ridArb, known: knownArb, payment: fc.option(fc.constantFrom('pay-1', 'pay-2')) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('expire' as const),
      ids: fc.option(fc.array(fc.record({ rid: ridArb, known: knownArb }), { maxLength: 4 }), { freq: 2 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('quote' as const), items: itemsArb, promo: promoArb }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('discount' as const), rid: ridArb, known: knownArb, promo: fc.oneof(promoCodeArb, fc.constant('own')) }) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.record({ k: fc.constant('capacity' as const), type: typeIdxArb, relative: fc.constant(false), value: fc.integer({ min: -1, max: 25 }) }),
      fc.record({ k: fc.constant('capacity' as const), type: typeIdxArb, relative: fc.constant(true), value: fc.integer({ min: -3, max: 5 }) }),
    ),
  },
  { weight: 4, arbitrary: fc.record({
      k: fc.constant('lock' as const),
      type: fc.option(typeIdxArb, { freq: 3 }),
      locked: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('checkin' as const), pick: fc.nat({ max: 50 }), unknown: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), gate: fc.constantFrom('G1', 'G2', 'G3') }) },
  {
    weight: 12,
    arbitrary: fc.record({
      k: fc.constant('tick' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: MIN }), fc.integer({ min: 0, max: 30 * MIN }), fc.integer({ min: 0, max: 120 * MIN })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('toExpiry' as const), offset: fc.constantFrom(-1, 0, 0, 1) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('price' as const), type: fc.integer({ min: 0, max: 2 }), price: priceArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), type: typeIdxArb }) },
  { weight: 2, arbitrary: fc.constant({ k: 'sync' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('query' as const), what: fc.constantFrom('levels' as const, 'reservation' as const, 'ticket' as const), rid: ridArb }) },
);

export interface Scenario {
  readonly setup: Setup;
  readonly steps: readonly Step[];
  /** Take a JSON snapshot after this step (mod length), to test snapshot + tail replay. */
  readonly snapshotAt: number;
  /** Extra time past the last expiry before the final Expire. */
  readonly slack: number;
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  setup: setupArb,
  steps: fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
  snapshotAt: fc.nat(),
  slack: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 * MIN })),
});

