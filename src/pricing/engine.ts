/**
 * The dynamic pricing engine: pure functions, no I/O, no clock reads (the caller passes
 * `now`). Given a ticket type's base price, bounds, the event's start, sold share, recent
 * sales and the event's active rules, it returns the unit price and the factors behind it.
 *
 * Rules (each adds its `adjustmentBps`, in basis points of the BASE price, when it matches):
 *  - time, adjustment ≥ 0: applies once the event starts within `threshold` seconds
 *    (a late surcharge);
 *  - time, adjustment < 0: an early-bird discount, applies while the event is still MORE
 *    than `threshold` seconds away;
 *  - demand: applies once sold / capacity ≥ threshold / 10 000 (compared exactly:
 *    sold × 10 000 ≥ threshold × capacity);
 *  - velocity: applies once the tickets sold within the last `windowSeconds` reach `threshold`.
 * The adjusted price is base × (10 000 + Σ adjustments) / 10 000, rounded to the minor unit
 * half up, then clamped to [floor, cap]; with neither bound set the clamp is [50 %, 300 %] of
 * the base (50 % rounded half up). A missing bound when the other is set defaults the same
 * way, widened so that floor ≤ cap. All arithmetic is on integers (BigInt for the product).
 */
import type { PriceEngine, PriceFactor, PriceInputs, PriceResult, PricingRuleInfo } from '../../actors/inventory/pricingPort.js';

export type { PriceEngine, PriceFactor, PriceInputs, PriceResult, PricingRuleInfo };

/** Default bounds when a ticket type sets none, in basis points of the base price. */
export const DEFAULT_FLOOR_BPS = 5_000;
export const DEFAULT_CAP_BPS = 30_000;

/** Longest velocity window the engine accepts (and the actor keeps sales for), in seconds. */
export const MAX_VELOCITY_WINDOW_SECONDS = 86_400;
export const MIN_VELOCITY_WINDOW_SECONDS = 60;

const BPS = 10_000n;

/** floor(a / b) for BigInt with b > 0 (BigInt division truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** base × (10 000 + bps) / 10 000, rounded half up to the minor unit. */
export function applyBps(baseMinor: number, bps: number): number {
  const scaled = BigInt(baseMinor) * (BPS + BigInt(bps));
  return Number(floorDiv(2n * scaled + BPS, 2n * BPS));
}

/** A basis-point share as a percentage string without floats: 8250 → "82.5%". */
export function percent(bps: number): string {
  const sign = bps < 0 ? '-' : '';
  const abs = Math.abs(bps);
  const whole = Math.floor(abs / 100);
  const frac = abs % 100;
  if (frac === 0) return `${sign}${whole}%`;
  return `${sign}${whole}.${String(frac).padStart(2, '0').replace(/0$/, '')}%`;
}

/** The bounds in force for a base price. */
export function boundsOf(baseMinor: number, floorMinor: number | null, capMinor: number | null): { floorMinor: number; capMinor: number } {
  const defaultFloor = applyBps(baseMinor, DEFAULT_FLOOR_BPS - 10_000);
  const defaultCap = applyBps(baseMinor, DEFAULT_CAP_BPS - 10_000);
  const floor = floorMinor ?? (capMinor === null ? defaultFloor : Math.min(defaultFloor, capMinor));
  const cap = capMinor ?? Math.max(defaultCap, floor);
  return { floorMinor: floor, capMinor: Math.max(cap, floor) };
}

/** How far a price can move: the bounds in force, or the base price itself without dynamic pricing. */
export function rangeOf(
  dynamicPricing: boolean,
  baseMinor: number,
  floorMinor: number | null,
  capMinor: number | null,
): { floorMinor: number; capMinor: number } {
  return dynamicPricing ? boundsOf(baseMinor, floorMinor, capMinor) : { floorMinor: baseMinor, capMinor: baseMinor };
}

/** Tickets sold in the `windowSeconds` before `now` (buckets at or after now − window). */
export function salesWithin(recentSales: PriceInputs['recentSales'], now: number, windowSeconds: number): number {
  const from = now - windowSeconds * 1000;
  let total = 0;
  for (let i = recentSales.length - 1; i >= 0; i--) {
    const [at, quantity] = recentSales[i] as readonly [number, number];
    if (at < from) break;
    if (at <= now) total += quantity;
  }
  return total;
}

function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/** Why a rule matches, or undefined when it does not. */
function matchRule(rule: PricingRuleInfo, inputs: PriceInputs): string | undefined {
  const change = `${rule.adjustmentBps >= 0 ? '+' : ''}${percent(rule.adjustmentBps)}`;
  switch (rule.kind) {
    case 'time': {
      if (inputs.eventStartsAt === null) return undefined;
      const within = inputs.eventStartsAt - inputs.now <= rule.threshold * 1000;
      if (rule.adjustmentBps >= 0) {
        return within ? `${change}: the event starts within ${formatDuration(rule.threshold)}` : undefined;
      }
      return within ? undefined : `${change} early bird: the event is more than ${formatDuration(rule.threshold)} away`;
    }
    case 'demand': {
      if (inputs.capacity <= 0) return undefined;
      if (inputs.sold * 10_000 < rule.threshold * inputs.capacity) return undefined;
      return `${change}: ${percent(rule.threshold)} or more sold (${inputs.sold} of ${inputs.capacity})`;
    }
    case 'velocity': {
      const window = rule.windowSeconds ?? MIN_VELOCITY_WINDOW_SECONDS;
      const sold = salesWithin(inputs.recentSales, inputs.now, window);
      if (sold < rule.threshold) return undefined;
      return `${change}: ${sold} sold in the last ${formatDuration(window)} (${rule.threshold} or more)`;
    }
  }
}

/** Rules that govern a ticket type: event-wide ones and its own. */
export function rulesFor(rules: readonly PricingRuleInfo[], ticketTypeId: string): PricingRuleInfo[] {
  return rules.filter((r) => r.ticketTypeId === null || r.ticketTypeId === ticketTypeId);
}

export const computePrice: PriceEngine = (inputs) => {
  const factors: PriceFactor[] = [];
  for (const rule of rulesFor(inputs.rules, inputs.ticketTypeId)) {
    const why = matchRule(rule, inputs);
    if (why !== undefined) factors.push({ ruleId: rule.id, name: rule.name, kind: rule.kind, adjustmentBps: rule.adjustmentBps, why });
  }
  const adjustmentBps = factors.reduce((sum, f) => sum + f.adjustmentBps, 0);
  const unclampedMinor = applyBps(inputs.baseMinor, adjustmentBps);
  const { floorMinor, capMinor } = boundsOf(inputs.baseMinor, inputs.floorMinor, inputs.capMinor);
  const priceMinor = Math.min(capMinor, Math.max(floorMinor, unclampedMinor));
  return { priceMinor, factors, adjustmentBps, unclampedMinor, floorMinor, capMinor };
};

/** The pricing interval containing `now`: prices move only at its end (epoch-aligned, so every pod agrees). */
export function priceInterval(now: number, intervalSeconds: number): { start: number; end: number } {
  const ms = intervalSeconds * 1000;
  const start = Math.floor(now / ms) * ms;
  return { start, end: start + ms };
}
