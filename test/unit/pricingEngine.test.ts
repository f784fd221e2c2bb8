import test from 'ava';
import fc from 'fast-check';
import { applyBps, boundsOf, computePrice, percent, priceInterval, salesWithin, type PriceInputs, type PricingRuleInfo } from '../../src/pricing/engine.js';

const NOW = Date.UTC(2030, 5, 1, 12, 0, 0);
const TYPE = '0a000000-0000-4000-8000-0000000000a1';
const OTHER = '0b000000-0000-4000-8000-0000000000b2';

const ruleArb: fc.Arbitrary<PricingRuleInfo> = fc
  .record({
    id: fc.uuid(),
    kind: fc.constantFrom('time' as const, 'demand' as const, 'velocity' as const),
    threshold: fc.integer({ min: 0, max: 200_000 }),
    adjustmentBps: fc.integer({ min: -10_000, max: 100_000 }),
    window: fc.integer({ min: 60, max: 86_400 }),
    scope: fc.constantFrom(null, TYPE, OTHER),
  })
  .map((r) => ({
    id: r.id,
    name: `rule ${r.id.slice(0, 8)}`,
    kind: r.kind,
    threshold: r.kind === 'demand' ? r.threshold % 10_001 : r.threshold,
    adjustmentBps: r.adjustmentBps,
    windowSeconds: r.kind === 'velocity' ? r.window : null,
    ticketTypeId: r.scope,
  }));

const salesArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 86_400 }), fc.integer({ min: 1, max: 20 })), { maxLength: 40 })
  .map((xs) => xs.map(([ago, q]) => [NOW - ago * 1000, q] as const).sort((a, b) => a[0] - b[0]));

const boundsArb = fc.oneof(
  fc.constant({ floor: null, cap: null }),
  fc.tuple(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 })).map(([a, b]) => ({ floor: Math.min(a, b), cap: Math.max(a, b) })),
  fc.integer({ min: 0, max: 1e9 }).map((floor) => ({ floor, cap: null })),
  fc.integer({ min: 0, max: 1e9 }).map((cap) => ({ floor: null, cap })),
);

const inputsArb: fc.Arbitrary<PriceInputs> = fc
  .record({
    base: fc.integer({ min: 0, max: 1e12 }),
    bounds: boundsArb,
    startsIn: fc.option(fc.integer({ min: -86_400, max: 400 * 86_400 }), { nil: null }),
    capacity: fc.integer({ min: 0, max: 100_000 }),
    soldPart: fc.integer({ min: 0, max: 10_000 }),
    sales: salesArb,
    rules: fc.array(ruleArb, { maxLength: 8 }),
  })
  .map((x) => ({
    ticketTypeId: TYPE,
    baseMinor: x.base,
    floorMinor: x.bounds.floor,
    capMinor: x.bounds.cap,
    eventStartsAt: x.startsIn === null ? null : NOW + x.startsIn * 1000,
    now: NOW,
    capacity: x.capacity,
    sold: Math.floor((x.capacity * x.soldPart) / 10_000),
    recentSales: x.sales,
    rules: x.rules,
  }));

test('the price is always within [floor, cap], and those are the given bounds or [50%, 300%] of the base', (t) => {
  fc.assert(
    fc.property(inputsArb, (inputs) => {
      const r = computePrice(inputs);
      if (r.priceMinor < r.floorMinor || r.priceMinor > r.capMinor) return false;
      if (inputs.floorMinor !== null && r.floorMinor !== inputs.floorMinor) return false;
      if (inputs.capMinor !== null && r.capMinor !== inputs.capMinor) return false;
      if (inputs.floorMinor === null && inputs.capMinor === null) {
        return r.floorMinor === Math.floor((inputs.baseMinor + 1) / 2) && r.capMinor === inputs.baseMinor * 3;
      }
      return true;
    }),
  );
  t.pass();
});

test('same inputs give the same price and factors', (t) => {
  fc.assert(fc.property(inputsArb, (inputs) => {
    const a = computePrice(inputs);
    const b = computePrice(structuredClone(inputs));
    t.deepEqual(a, b);
  }));
});

test('with only positive demand rules the price never falls as the sold share rises', (t) => {
  const demandOnly = fc.array(
    fc.record({ id: fc.uuid(), threshold: fc.integer({ min: 0, max: 10_000 }), adjustmentBps: fc.integer({ min: 0, max: 100_000 }) }),
    { maxLength: 6 },
  );
  fc.assert(
    fc.property(inputsArb, demandOnly, fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (base, rules, s1, s2) => {
      const capacity = Math.max(1, base.capacity);
      const [lo, hi] = [Math.min(s1, s2) % (capacity + 1), Math.max(s1, s2) % (capacity + 1)].sort((a, b) => a - b) as [number, number];
      const inputs = {
        ...base,
        capacity,
        rules: rules.map((r) => ({ ...r, name: 'd', kind: 'demand' as const, windowSeconds: null, ticketTypeId: null })),
      };
      return computePrice({ ...inputs, sold: lo }).priceMinor <= computePrice({ ...inputs, sold: hi }).priceMinor;
    }),
  );
  t.pass();
});

test('factors add up to the applied adjustment before clamping', (t) => {
  fc.assert(
    fc.property(inputsArb, (inputs) => {
      const r = computePrice(inputs);
      const sum = r.factors.reduce((s, f) => s + f.adjustmentBps, 0);
      const ruleOf = (id: string) => inputs.rules.find((x) => x.id === id);
      return (
        sum === r.adjustmentBps &&
        r.unclampedMinor === applyBps(inputs.baseMinor, sum) &&
        r.factors.every((f) => f.why.length > 0 && f.name === ruleOf(f.ruleId)?.name && f.kind === ruleOf(f.ruleId)?.kind)
      );
    }),
  );
  t.pass();
});

test('no float money anywhere: every amount is a safe integer and adjusting rounds half up exactly', (t) => {
  fc.assert(
    fc.property(inputsArb, (inputs) => {
      const r = computePrice(inputs);
      return [r.priceMinor, r.unclampedMinor, r.floorMinor, r.capMinor, r.adjustmentBps].every(Number.isSafeInteger);
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: -10_000, max: 100_000 }), (base, bps) => {
      // Exact reference in BigInt: round(base * (1 + bps/10000)) half up.
      const num = BigInt(base) * BigInt(10_000 + bps);
      const q = num / 10_000n;
      const rem = num % 10_000n;
      const expected = rem * 2n >= 10_000n ? q + 1n : q;
      return applyBps(base, bps) === Number(expected);
    }),
  );
  t.is(applyBps(999, 500), 1049); // 1048.95 → 1049
  t.is(applyBps(10, 500), 11); // 10.5 → 11 (half up)
  t.is(applyBps(30, -5000), 15);
  t.is(applyBps(3, -5000), 2); // 1.5 → 2
});

const rule = (r: Partial<PricingRuleInfo> & Pick<PricingRuleInfo, 'kind' | 'threshold' | 'adjustmentBps'>): PricingRuleInfo => ({
  id: `r-${r.kind}-${r.threshold}`,
  name: `${r.kind} rule`,
  windowSeconds: r.kind === 'velocity' ? 600 : null,
  ticketTypeId: null,
  ...r,
});
const base: PriceInputs = {
  ticketTypeId: TYPE,
  baseMinor: 10_000,
  floorMinor: null,
  capMinor: null,
  eventStartsAt: NOW + 30 * 86_400_000,
  now: NOW,
  capacity: 100,
  sold: 0,
  recentSales: [],
  rules: [],
};

test('each kind matches as documented and adjustments add in bps of the base', (t) => {
  const demand = rule({ kind: 'demand', threshold: 5000, adjustmentBps: 2500 });
  const velocity = rule({ kind: 'velocity', threshold: 10, adjustmentBps: 1000 });
  const late = rule({ kind: 'time', threshold: 7 * 86_400, adjustmentBps: 500 });
  const early = rule({ kind: 'time', threshold: 14 * 86_400, adjustmentBps: -2000 });
  const rules = [demand, velocity, late, early];

  const far = computePrice({ ...base, rules });
  t.deepEqual(far.factors.map((f) => f.ruleId), [early.id]);
  t.is(far.priceMinor, 8000);

  const busy = computePrice({ ...base, rules, sold: 50, recentSales: [[NOW - 599_000, 4], [NOW - 1000, 6]] });
  t.deepEqual(busy.factors.map((f) => f.ruleId), [demand.id, velocity.id, early.id]);
  t.deepEqual(busy.factors.map((f) => f.name), [demand.name, velocity.name, early.name]);
  t.is(busy.adjustmentBps, 2500 + 1000 - 2000);
  t.is(busy.priceMinor, 11_500);

  // The burst leaves the window: velocity off. The event comes close: early bird off, late surcharge on.
  const later = computePrice({ ...base, rules, sold: 50, now: NOW + 600_000, recentSales: [[NOW - 599_000, 4], [NOW - 1000, 6]], eventStartsAt: NOW + 86_400_000 });
  t.deepEqual(later.factors.map((f) => f.ruleId), [demand.id, late.id]);
  t.is(later.priceMinor, 13_000);
  t.regex(later.factors[0]!.why, /50% or more sold \(50 of 100\)/);

  // A rule scoped to another ticket type does not apply.
  t.deepEqual(computePrice({ ...base, sold: 100, rules: [{ ...demand, ticketTypeId: OTHER }] }).factors, []);
});

test('clamps to the bounds and the defaults', (t) => {
  const surge = rule({ kind: 'demand', threshold: 0, adjustmentBps: 100_000 });
  t.is(computePrice({ ...base, rules: [surge] }).priceMinor, 30_000);
  t.is(computePrice({ ...base, rules: [surge] }).unclampedMinor, 110_000);
  t.is(computePrice({ ...base, rules: [surge], capMinor: 15_000 }).priceMinor, 15_000);
  const drop = rule({ kind: 'demand', threshold: 0, adjustmentBps: -9000 });
  t.is(computePrice({ ...base, rules: [drop] }).priceMinor, 5000);
  t.is(computePrice({ ...base, rules: [drop], floorMinor: 7000 }).priceMinor, 7000);
  t.deepEqual(boundsOf(10_000, null, 4000), { floorMinor: 4000, capMinor: 4000 });
  t.deepEqual(boundsOf(10_001, null, null), { floorMinor: 5001, capMinor: 30_003 });
});

test('helpers: sales window, percent text, interval boundaries', (t) => {
  t.is(salesWithin([[NOW - 61_000, 3], [NOW - 60_000, 2], [NOW, 1]], NOW, 60), 3);
  t.is(percent(8250), '82.5%');
  t.is(percent(-1000), '-10%');
  t.is(percent(5), '0.05%');
  t.deepEqual(priceInterval(NOW + 1234, 300), { start: NOW, end: NOW + 300_000 });
});
