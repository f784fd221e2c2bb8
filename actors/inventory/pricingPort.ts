/**
 * What the EventInventory actor needs from the pricing engine (a port: the engine itself is
 * pure functions in the service's pricing module, handed to the actor by the composition
 * root). Plain data in, plain data out; money is integer minor units, times are epoch ms.
 */

export type PricingRuleKind = 'time' | 'demand' | 'velocity';

/** An active dynamic pricing rule, as the catalog holds it. */
export interface PricingRuleInfo {
  readonly id: string;
  readonly name: string;
  readonly kind: PricingRuleKind;
  /**
   * time: seconds before the event starts; demand: sold share in basis points;
   * velocity: tickets sold within `windowSeconds`.
   */
  readonly threshold: number;
  /** Basis points of the base price (+2500 = +25 %, -1000 = -10 %). */
  readonly adjustmentBps: number;
  /** velocity only (60..86 400); null for the other kinds. */
  readonly windowSeconds: number | null;
  /** null = every ticket type of the event. */
  readonly ticketTypeId: string | null;
}

/** Tickets confirmed within one second: [start of that second (epoch ms), quantity]. */
export type SalesBucket = readonly [at: number, quantity: number];

export interface PriceInputs {
  readonly ticketTypeId: string;
  readonly baseMinor: number;
  /** Explicit bounds (same currency as the base); both null = [50 %, 300 %] of the base. */
  readonly floorMinor: number | null;
  readonly capMinor: number | null;
  /** Start of the event (epoch ms); null = time rules never apply. */
  readonly eventStartsAt: number | null;
  readonly now: number;
  readonly capacity: number;
  readonly sold: number;
  /** Recent confirmed sales of this ticket type, oldest first (enough for the longest velocity window). */
  readonly recentSales: readonly SalesBucket[];
  /** The event's active rules; those scoped to another ticket type are ignored. */
  readonly rules: readonly PricingRuleInfo[];
}

export interface PriceFactor {
  readonly ruleId: string;
  /** The rule's name (absent from factors journaled before names were recorded). */
  readonly name?: string;
  readonly kind: PricingRuleKind;
  readonly adjustmentBps: number;
  /** Plain-language reason, for buyers. */
  readonly why: string;
}

export interface PriceResult {
  readonly priceMinor: number;
  readonly factors: readonly PriceFactor[];
  /** Sum of the factors' adjustments (before clamping). */
  readonly adjustmentBps: number;
  /** The base adjusted and rounded, before the clamp. */
  readonly unclampedMinor: number;
  /** The bounds in force (explicit, or the defaults). */
  readonly floorMinor: number;
  readonly capMinor: number;
}

/** The pure price function: same inputs, same result; no I/O, no clock. */
export type PriceEngine = (inputs: PriceInputs) => PriceResult;

/** Dynamic pricing as the actor sees it. */
export interface PricingPort {
  /** false (DYNAMIC_PRICING_ENABLED=false): every price is the base price; rules are only stored. */
  readonly enabled: boolean;
  readonly price: PriceEngine;
  /** The pricing interval containing `now` (prices move only at its end). */
  readonly intervalOf: (now: number) => { readonly start: number; readonly end: number };
}
