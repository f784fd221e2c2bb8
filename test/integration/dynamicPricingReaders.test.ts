/**
 * Dynamic pricing as every reader shows it, against real Postgres and Redis with the
 * inventory's clock driven by the test (PRICE_UPDATE_INTERVAL=60): prices move only at
 * interval boundaries, holds keep the price they were quoted, and REST, SSE, gRPC and the
 * next reserve all agree; early-bird prices; with dynamic pricing off, base prices everywhere.
 */
import { randomUUID } from 'node:crypto';
import { startTestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall } from '../helpers/grpc.js';
import { addRule, boundary, hold, INTERVAL_MS, intervalStart, inv, pricingClock, sell, shownPrices, withPricedPod } from '../helpers/dynamicPricing.js';

const clock = pricingClock();
const test = withPricedPod(clock);

test.serial('a sale crossing a demand threshold raises later holds at the next boundary; earlier holds confirm at their locked price', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10, max_per_purchase: 10, price: { currency: 'USD', amount_minor: 10_000 } });
  const rule = await addRule(svc, event.id, { kind: 'demand', threshold: 5000, adjustment_bps: 2500 });

  const early = await hold(svc, event.id, type.id, 1);
  t.is(early.reservation.items[0]?.unitPriceMinor, 10_000);
  await sell(svc, event.id, type.id, 5); // 50 % sold: the rule matches from the next boundary
  const sameInterval = await hold(svc, event.id, type.id, 1);
  t.is(sameInterval.reservation.items[0]?.unitPriceMinor, 10_000, 'within an interval the price does not move');
  const before = await shownPrices(t.context, event.id, type.id); // the disclosure is cached now
  t.deepEqual(
    [before.rest, before.disclosure, before.grpcAvailable, before.grpcDynamic, before.calculate, before.sse, before.watch, before.eventById],
    [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000],
  );

  await boundary(svc, event.id, clock);
  const shown = await shownPrices(t.context, event.id, type.id);
  const later = await hold(svc, event.id, type.id, 1);
  t.is(later.reservation.items[0]?.unitPriceMinor, 12_500);
  // Everyone shows what the next reserve charged.
  t.deepEqual(
    [shown.rest, shown.disclosure, shown.grpcAvailable, shown.grpcDynamic, shown.calculate, shown.sse, shown.watch, shown.eventById],
    [12_500, 12_500, 12_500, 12_500, 12_500, 12_500, 12_500, 12_500],
  );
  const boundaryAt = intervalStart(clock.now()) + INTERVAL_MS;
  t.is(shown.sseValidUntil, new Date(boundaryAt).toISOString(), 'price_valid_until is published with the availability');
  t.is(shown.watchValidUntil, boundaryAt);
  t.is(shown.dynamic.factors.length, 1);
  t.like(shown.dynamic.factors[0], { rule_id: rule.id, name: 'demand rule', kind: 'demand', adjustment_bps: 2500 });
  t.is(Number(shown.dynamic.base_price.amount_minor), 10_000);
  t.is(Number(shown.dynamic.valid_until.seconds) * 1000, boundaryAt);

  const confirmedEarly = await inv(svc).confirm(event.id, early.reservation.id, 'pay');
  t.is(confirmedEarly.reservation.totalMinor, 10_000, 'the earlier hold pays its locked price');
  t.true(confirmedEarly.tickets.every((k) => k.priceMinor === 10_000 && k.code.length > 0));
  const confirmedLater = await inv(svc).confirm(event.id, later.reservation.id, 'pay');
  t.is(confirmedLater.reservation.totalMinor, 12_500);

  // Disclosure: base, bounds (the default clamp), current, factors, history.
  const d = shown.disclosureType;
  t.like(d, { base_price: { amount_minor: 10_000 }, price_floor: { amount_minor: 5000 }, price_cap: { amount_minor: 30_000 }, tier_open: true });
  t.deepEqual(d.history.map((h: any) => h.price.amount_minor), [10_000, 12_500]);
  t.like(d.factors[0], { rule_id: rule.id, name: 'demand rule', kind: 'demand', adjustment_bps: 2500 });
  t.regex(d.factors[0].why, /50% or more sold/);

  // A promo code applies on top of the dynamic price.
  const promo = await svc.api('POST', `/events/${event.id}/promo-codes`, { body: { code: 'TENOFF', percent_off_bps: 1000 } });
  t.is(promo.status, 201);
  const quoted = await inv(svc).quote(event.id, [{ ticketTypeId: type.id, quantity: 1 }], 'TENOFF');
  t.deepEqual([quoted.subtotalMinor, quoted.discountMinor, quoted.totalMinor], [12_500, 1250, 11_250]);
});

test.serial('early bird, both readings: a negative time rule far from the start, and an early-bird type whose price holds only until its sale ends', async (t) => {
  const { svc } = t.context;
  const startsAt = clock.now() + 90 * 86_400_000;
  const event = await createEvent(svc, { start_date: new Date(startsAt).toISOString(), end_date: new Date(startsAt + 3_600_000).toISOString() });
  const saleEnds = intervalStart(clock.now()) + 30_000; // before the interval's end
  const earlyType = await createTicketType(svc, event.id, { name: 'Early', price: { currency: 'USD', amount_minor: 8000 }, valid_until: new Date(saleEnds).toISOString() });
  const rule = await addRule(svc, event.id, { kind: 'time', threshold: 60 * 86_400, adjustment_bps: -2000 });
  const r = await hold(svc, event.id, earlyType.id, 1);
  t.is(r.reservation.items[0]?.unitPriceMinor, 6400, '-20% while the event is more than 60 days away');
  const shown = await shownPrices(t.context, event.id, earlyType.id);
  t.like(shown.dynamic.factors[0], { rule_id: rule.id, adjustment_bps: -2000 });
  t.regex(shown.dynamic.factors[0].reason, /early bird/);
  t.is(shown.disclosureType.valid_until, new Date(saleEnds).toISOString(), 'the offer ends with the sale window');
});

test('DYNAMIC_PRICING_ENABLED=false gives base prices everywhere; rules are only stored', async (t) => {
  const plain = await startTestService({ DYNAMIC_PRICING_ENABLED: 'false' });
  t.teardown(() => plain.close());
  const event = await createEvent(plain);
  const type = await createTicketType(plain, event.id, { price: { currency: 'USD', amount_minor: 4000 } });
  await addRule(plain, event.id, { kind: 'demand', threshold: 0, adjustment_bps: 5000 });
  const clients = grpcClients(`127.0.0.1:${plain.service.grpcPort}`);
  t.teardown(() => clients.close());
  const shown = await shownPrices({ svc: plain, clients }, event.id, type.id);
  t.deepEqual(
    [shown.rest, shown.disclosure, shown.grpcAvailable, shown.grpcDynamic, shown.calculate, shown.sse, shown.watch, shown.eventById],
    [4000, 4000, 4000, 4000, 4000, 4000, 4000, 4000],
  );
  t.deepEqual(shown.dynamic.factors, []);
  t.deepEqual([shown.sseValidUntil, shown.watchValidUntil], [null, null], 'a base price holds until the catalog changes');
  const r = await inv(plain).reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  t.is(r.reservation.items[0]?.unitPriceMinor, 4000);
  // The range shown is the base price itself: the price cannot move.
  t.like(shown.disclosureType, { price_floor: { amount_minor: 4000 }, price_cap: { amount_minor: 4000 }, factors: [] });
  t.false((await plain.api('GET', `/events/${event.id}/pricing`, { token: null })).body.dynamic_pricing);
  t.deepEqual([Number(shown.dynamic.price_floor.amount_minor), Number(shown.dynamic.price_cap.amount_minor)], [4000, 4000]);
  const byId = (await unaryCall(clients.ticket, 'GetEventById', { event_id: event.id })).response.event.ticket_types[0];
  t.deepEqual([Number(byId.price_floor.amount_minor), Number(byId.price_cap.amount_minor)], [4000, 4000]);
  const restType = (await plain.api('GET', `/tickets/${type.id}`, { token: null })).body;
  t.like(restType, { price_range: { floor: { amount_minor: 4000 }, cap: { amount_minor: 4000 } } });
  const detail = (await plain.api('GET', `/events/${event.id}`, { token: null })).body.ticket_types[0];
  t.like(detail, { price_range: { floor: { amount_minor: 4000 }, cap: { amount_minor: 4000 } } });
});
