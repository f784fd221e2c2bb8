import test from 'ava';
import { generateSeedData, MAX_PRICE_MINOR, MIN_PRICE_MINOR, mulberry32 } from '../../src/cli/seedData.js';

const now = new Date('2025-03-01T10:30:00Z');
const DAY_MS = 86_400_000;

test('the same seed and clock give identical data', (t) => {
  const a = generateSeedData({ events: 40, seed: 7, now });
  const b = generateSeedData({ events: 40, seed: 7, now });
  t.deepEqual(a, b);
  const c = generateSeedData({ events: 40, seed: 8, now });
  t.notDeepEqual(a.events, c.events);
});

test('mulberry32 is deterministic and stays in [0, 1)', (t) => {
  const a = mulberry32(123);
  const b = mulberry32(123);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    t.is(x, b());
    t.true(x >= 0 && x < 1);
  }
});

test('produces exactly N events, and zero is allowed', (t) => {
  for (const n of [0, 1, 50, 333]) t.is(generateSeedData({ events: n, now }).events.length, n);
  t.throws(() => generateSeedData({ events: -1, now }), { instanceOf: RangeError });
  t.throws(() => generateSeedData({ events: 1.5, now }), { instanceOf: RangeError });
});

test('venues span several cities with valid coordinates and capacities', (t) => {
  const { venues } = generateSeedData({ events: 0, now });
  t.true(venues.length >= 10);
  t.true(new Set(venues.map((v) => v.city)).size >= 6);
  for (const v of venues) {
    t.true(Math.abs(Number(v.latitude)) <= 90);
    t.true(Math.abs(Number(v.longitude)) <= 180);
    t.true(Number.isInteger(v.capacity) && v.capacity > 0);
    t.true(v.amenities.every((a) => typeof a === 'string'));
  }
});

test('every event is well-formed', (t) => {
  const data = generateSeedData({ events: 500, seed: 99, now });
  for (const e of data.events) {
    const venue = data.venues[e.venueIndex];
    t.truthy(venue, 'event refers to an existing venue');
    t.true(e.title.length > 0 && e.title.length <= 255);
    t.true(e.end_date.getTime() >= e.start_date.getTime());
    t.true(e.start_date.getTime() > now.getTime());
    t.true(e.start_date.getTime() <= now.getTime() + 180 * DAY_MS);
    t.true(e.ticketTypes.length >= 1 && e.ticketTypes.length <= 4);
    t.is(new Set(e.ticketTypes.map((tt) => tt.name)).size, e.ticketTypes.length, 'ticket type names are unique per event');
    const total = e.ticketTypes.reduce((sum, tt) => sum + tt.quantity, 0);
    t.true(total <= e.max_capacity, 'ticket quantities fit the venue');
    for (const tt of e.ticketTypes) {
      t.true(Number.isInteger(tt.price_minor) && tt.price_minor > 0);
      t.true(tt.price_minor >= MIN_PRICE_MINOR && tt.price_minor <= MAX_PRICE_MINOR && tt.price_minor % 50 === 0);
      t.is(tt.currency, venue?.currency ?? 'missing venue');
      t.true(Number.isInteger(tt.quantity) && tt.quantity > 0);
      t.is(tt.available_quantity, tt.quantity);
      t.true(tt.min_per_purchase >= 1 && tt.min_per_purchase <= tt.max_per_purchase);
      t.true(tt.max_per_purchase >= 4 && tt.max_per_purchase <= 10);
      if (tt.valid_until) t.true(tt.valid_until.getTime() > now.getTime());
    }
    for (const p of e.promoCodes) {
      t.true((p.percent_off_bps === null) !== (p.amount_off_minor === null), 'exactly one discount kind');
      if (p.amount_off_minor !== null) t.truthy(p.currency);
    }
    for (const r of e.pricingRules) {
      t.true(r.threshold >= 0);
      t.true(r.adjustment_bps >= -10_000 && r.adjustment_bps <= 100_000);
      t.is(r.window_seconds !== null, r.kind === 'velocity', 'a window for velocity rules only');
    }
    // Rules that act on the demo at once: an early-bird price or a last-week surcharge.
    t.true(e.pricingRules.some((r) => r.kind === 'time' && r.adjustment_bps < 0));
    t.true(e.pricingRules.some((r) => r.kind === 'velocity'));
  }
});

test('the demo has variety: several categories, some featured events, promo codes and rules', (t) => {
  const { events } = generateSeedData({ events: 50, now });
  t.true(new Set(events.map((e) => e.category)).size >= 5);
  t.true(events.some((e) => e.featured));
  t.true(events.some((e) => !e.featured));
  t.true(events.some((e) => e.promoCodes.length > 0));
  t.true(events.some((e) => e.pricingRules.length > 0));
  t.true(events.some((e) => e.ticketTypes.length > 1));
});
