/**
 * Dynamic pricing end to end against real Postgres and Redis, with the inventory's clock
 * driven by the test (PRICE_UPDATE_INTERVAL=60): prices move only at interval boundaries,
 * holds keep the price they were quoted, velocity rules switch on and off, prices survive
 * recovery, release tiers open in the turn their predecessor sells out, and REST, gRPC and
 * the next reserve all agree.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { retryMoving } from '../helpers/retry.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall, type TestClients } from '../helpers/grpc.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { ticketctl } from '../helpers/ticketctl.js';
import { applyBps } from '../../src/pricing/engine.js';
import { shardOf } from '../../src/shards/shardOf.js';

const INTERVAL_MS = 60_000;
/** The inventory's clock (decisions, hold and pricing timers), moved by hand: 1 s into an interval. */
const clock = new FakeClock(Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS + 1000);
const intervalStart = (at: number) => Math.floor(at / INTERVAL_MS) * INTERVAL_MS;

const test = anyTest as TestFn<{ svc: TestService; clients: TestClients }>;
test.before(async (t) => {
  t.context.svc = await startTestService({ PRICE_UPDATE_INTERVAL: '60', INVENTORY_SNAPSHOT_EVERY_EVENTS: '1000' }, undefined, { clock });
  t.context.clients = grpcClients(`127.0.0.1:${t.context.svc.service.grpcPort}`);
});
test.after.always(async (t) => {
  t.context.clients?.close();
  await t.context.svc?.close();
});

const inv = (svc: TestService) => svc.service.inventory.service;

/**
 * Move the clock 1 s into the next pricing interval (plus `extraMs`). The actor's own
 * pricing timer fires at the boundary; nothing else is sent to the actor, so the interval's
 * `PricesUpdated` in the journal shows the timer repriced.
 */
async function boundary(svc: TestService, eventId: string, extraMs = 0, on = clock): Promise<void> {
  const target = intervalStart(on.now()) + INTERVAL_MS + 1000 + extraMs;
  await on.advance(target - on.now());
  await waitFor('the pricing timer to reprice at the boundary', async () => {
    const { rows } = await svc.db.query(
      `SELECT 1 FROM inventory_journal WHERE event_id = $1 AND kind = 'PricesUpdated' AND (payload->>'interval')::bigint = $2`,
      [eventId, intervalStart(target)],
    );
    return rows.length > 0;
  });
}

async function addRule(svc: TestService, eventId: string, rule: Record<string, unknown>): Promise<any> {
  const res = await svc.api('POST', `/events/${eventId}/pricing-rules`, { body: { name: `${String(rule.kind)} rule`, ...rule } });
  if (res.status !== 201) throw new Error(`rule create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function hold(svc: TestService, eventId: string, ticketTypeId: string, quantity: number) {
  return inv(svc).reserve(eventId, { reservationId: randomUUID(), items: [{ ticketTypeId, quantity }] });
}

async function sell(svc: TestService, eventId: string, ticketTypeId: string, quantity: number) {
  const r = await hold(svc, eventId, ticketTypeId, quantity);
  return inv(svc).confirm(eventId, r.reservation.id, 'pay');
}

/** The first snapshot of the SSE stream (what a browser gets at once). */
async function firstSse(svc: TestService, eventId: string): Promise<any> {
  const controller = new AbortController();
  const res = await fetch(`${svc.service.httpUrl}/events/${eventId}/availability/stream`, { signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const data = buffer.split('\n').find((l) => l.startsWith('data: '));
      if (data && buffer.includes('\n\n')) return JSON.parse(data.slice(6));
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  } finally {
    controller.abort();
  }
}

/** The first snapshot of gRPC WatchAvailability. */
function firstWatch(clients: TestClients, eventId: string): Promise<any> {
  const stream = clients.ticket.WatchAvailability({ event_id: eventId });
  return new Promise((resolve, reject) => {
    stream.once('data', (m: any) => {
      resolve(m);
      stream.cancel();
    });
    stream.once('error', (err: { code?: number }) => {
      if (err.code !== 1) reject(err); // 1 = CANCELLED, ours
    });
  });
}

/** What every reader shows for one ticket type: REST availability, REST disclosure, gRPC reads, CalculatePrice. */
async function shownPrices(pod: { svc: TestService; clients: TestClients }, eventId: string, typeId: string) {
  const { svc, clients } = pod;
  await svc.service.inventory.flushProjections();
  const rest = (await svc.api('GET', `/events/${eventId}/tickets`, { token: null })).body.ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const disclosure = (await svc.api('GET', `/events/${eventId}/pricing`, { token: null })).body.ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const available = (await unaryCall(clients.ticket, 'GetAvailableTickets', { event_id: eventId })).response.ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const dynamic = (await unaryCall(clients.pricing, 'GetDynamicPricing', { event_id: eventId, ticket_type_id: typeId })).response;
  const calc = (await unaryCall(clients.pricing, 'CalculatePrice', { event_id: eventId, items: [{ ticket_type_id: typeId, quantity: 1 }] })).response;
  const sse = (await firstSse(svc, eventId)).ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const watched = (await firstWatch(clients, eventId)).ticket_types.find((x: any) => x.ticket_type_id === typeId);
  const byId = (await unaryCall(clients.ticket, 'GetEventById', { event_id: eventId })).response.event.ticket_types.find((x: any) => x.id === typeId);
  return {
    sse: sse.price.amount_minor as number,
    sseValidUntil: sse.price_valid_until as string | null,
    watch: Number(watched.price.amount_minor),
    watchValidUntil: watched.price_valid_until ? Number(watched.price_valid_until.seconds) * 1000 : null,
    rest: rest.price.amount_minor as number,
    disclosure: disclosure.current_price.amount_minor as number,
    grpcAvailable: Number(available.price.amount_minor),
    grpcDynamic: Number(dynamic.current_price.amount_minor),
    calculate: Number(calc.lines[0].unit_price.amount_minor),
    eventById: Number(byId.current_price.amount_minor),
    dynamic,
    disclosureType: disclosure,
  };
}

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

  await boundary(svc, event.id);
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

test.serial('a base-price or rule change reprices at once; a velocity rule switches on under a burst and off after its window', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 100, max_per_purchase: 10, price: { currency: 'USD', amount_minor: 2000 } });
  t.is((await hold(svc, event.id, type.id, 1)).reservation.items[0]?.unitPriceMinor, 2000);

  const put = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { price: { currency: 'USD', amount_minor: 3000 } } });
  t.is(put.status, 200);
  t.is((await hold(svc, event.id, type.id, 1)).reservation.items[0]?.unitPriceMinor, 3000, 'a base-price change takes effect at once');

  const velocity = await addRule(svc, event.id, { kind: 'velocity', threshold: 6, window_seconds: 120, adjustment_bps: 1000, ticket_type_id: type.id });
  t.is((await hold(svc, event.id, type.id, 1)).reservation.items[0]?.unitPriceMinor, 3000, 'no burst yet');
  await sell(svc, event.id, type.id, 3);
  await sell(svc, event.id, type.id, 3);
  await boundary(svc, event.id);
  const during = await shownPrices(t.context, event.id, type.id);
  t.is(during.grpcDynamic, 3300);
  t.like(during.dynamic.factors[0], { rule_id: velocity.id, kind: 'velocity' });
  t.is((await hold(svc, event.id, type.id, 1)).reservation.items[0]?.unitPriceMinor, 3300);

  await boundary(svc, event.id, INTERVAL_MS); // more than the 120 s window after the burst
  const after = await shownPrices(t.context, event.id, type.id);
  t.deepEqual([after.rest, after.grpcDynamic, after.calculate], [3000, 3000, 3000]);
  t.deepEqual(after.dynamic.factors, []);
  t.deepEqual(after.disclosureType.history.map((h: any) => h.price.amount_minor), [2000, 3000, 3300, 3000]);

  // Prices survive recovery unchanged: from the journal alone, then from a snapshot.
  const before = await inv(svc).pricing(event.id);
  await sell(svc, event.id, type.id, 10); // inputs move on within the interval...
  svc.service.inventory.registry.discard(event.id);
  t.deepEqual((await inv(svc).pricing(event.id)).types, before.types, '...yet a recovered actor shows the same prices');
  await svc.service.inventory.registry.passivate(event.id);
  t.deepEqual((await inv(svc).pricing(event.id)).types, before.types);
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

test.serial('a release tier opens in the same turn its predecessor sells out, under 64 concurrent reservers, oversold never', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const early = await createTicketType(svc, event.id, { name: 'Early bird', quantity: 10, price: { currency: 'USD', amount_minor: 3000 } });
  const regular = await createTicketType(svc, event.id, {
    name: 'Regular', quantity: 10, price: { currency: 'USD', amount_minor: 5000 }, opens_after_sold_out: early.id,
  });
  t.is(regular.opens_after_sold_out, early.id);
  await svc.service.inventory.flushProjections();
  const first = (await svc.api('GET', `/events/${event.id}/tickets`, { token: null })).body.ticket_types;
  t.is(first.find((x: any) => x.ticket_type_id === regular.id).status, 'not_yet_on_sale');
  // The disclosure is cached now (in-process and Redis); the tier opening must drop it.
  const cachedBefore = (await svc.api('GET', `/events/${event.id}/pricing`, { token: null })).body.ticket_types;
  t.like(cachedBefore.find((x: any) => x.ticket_type_id === regular.id), { tier_open: false });

  const outcomes = await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (const type of [early, regular]) {
        try {
          const r = await hold(svc, event.id, type.id, 1);
          return r.reservation.items[0]?.ticketTypeId;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'NOT_ON_SALE' && code !== 'SOLD_OUT') throw err;
        }
      }
      return 'none';
    }),
  );
  t.is(outcomes.filter((x) => x === early.id).length, 10);
  t.is(outcomes.filter((x) => x === regular.id).length, 10);
  const { levels } = await inv(svc).levels(event.id);
  for (const l of levels) t.true(l.sold + l.held <= l.capacity);

  const { rows } = await svc.db.query<{ seq: string; kind: string; payload: any }>(
    `SELECT seq, kind, payload FROM inventory_journal WHERE event_id = $1 AND kind IN ('HoldPlaced', 'TierOpened') ORDER BY seq`,
    [event.id],
  );
  const opened = rows.findIndex((r) => r.kind === 'TierOpened');
  t.true(opened > 0);
  const typeOf = (r: (typeof rows)[number]) => r.payload.reservation?.items[0]?.ticketTypeId;
  t.true(rows.slice(0, opened).every((r) => typeOf(r) === early.id), 'nothing of the next tier before it opened');
  t.true(rows.slice(opened + 1).every((r) => typeOf(r) === regular.id), 'nothing of the passed tier after');
  t.is(Number(rows[opened]!.seq), Number(rows[opened - 1]!.seq) + 1, 'opened right after the hold that sold the predecessor out');

  await svc.service.inventory.flushProjections();
  const disclosure = (await svc.api('GET', `/events/${event.id}/pricing`, { token: null })).body.ticket_types;
  t.like(disclosure.find((x: any) => x.ticket_type_id === regular.id), { opens_after_sold_out: early.id, tier_open: true });
});

test.serial('bad pricing input is refused with VALIDATION and stores nothing', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id);
  const other = await createTicketType(svc, (await createEvent(svc)).id);
  const bad: Record<string, unknown>[] = [
    { name: 'v', kind: 'velocity', threshold: 5, adjustment_bps: 100 },
    { name: 'v', kind: 'velocity', threshold: 5, adjustment_bps: 100, window_seconds: 59 },
    { name: 'v', kind: 'velocity', threshold: 5, adjustment_bps: 100, window_seconds: 86_401 },
    { name: 'd', kind: 'demand', threshold: 10_001, adjustment_bps: 100 },
    { name: 'd', kind: 'demand', threshold: 100, adjustment_bps: 100, window_seconds: 60 },
    { name: 'x', kind: 'surge', threshold: 1, adjustment_bps: 100 },
    { name: 't', kind: 'time', threshold: 1, adjustment_bps: -10_001 },
  ];
  for (const body of bad) {
    const res = await svc.api('POST', `/events/${event.id}/pricing-rules`, { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'VALIDATION');
  }
  const velocity = await addRule(svc, event.id, { kind: 'velocity', threshold: 5, window_seconds: 60, adjustment_bps: 100 });
  const patch = await svc.api('PUT', `/events/${event.id}/pricing-rules/${velocity.id}`, { body: { window_seconds: null } });
  t.is(patch.body.error?.code, 'VALIDATION');
  for (const body of [{ kind: 'demand', threshold: 10_001 }, { kind: 'time', window_seconds: 60 }, { window_seconds: 86_401 }, { adjustment_bps: 100_001 }, { kind: 'surge' }]) {
    const res = await svc.api('PUT', `/events/${event.id}/pricing-rules/${velocity.id}`, { body });
    t.is(res.body.error?.code, 'VALIDATION', JSON.stringify(body));
  }
  const next = await createTicketType(svc, event.id, { name: 'Next tier', opens_after_sold_out: type.id });
  const badTypes: Record<string, unknown>[] = [
    { price_floor: { currency: 'EUR', amount_minor: 100 } },
    { price_floor: { currency: 'USD', amount_minor: 900 }, price_cap: { currency: 'USD', amount_minor: 800 } },
    { opens_after_sold_out: type.id },
    { opens_after_sold_out: other.id },
    { opens_after_sold_out: next.id }, // a cycle: next opens after this one
  ];
  for (const body of badTypes) {
    const res = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.body.error.code, 'VALIDATION');
  }
  const rules = await svc.db.query('SELECT kind, threshold, adjustment_bps, window_seconds FROM pricing_rules WHERE event_id = $1', [event.id]);
  t.deepEqual(rules.rows, [{ kind: 'velocity', threshold: 5, adjustment_bps: 100, window_seconds: 60 }]);
  const row = await svc.db.query('SELECT price_floor_minor, price_cap_minor, opens_after_sold_out FROM ticket_types WHERE id = $1', [type.id]);
  t.deepEqual(row.rows[0], { price_floor_minor: null, price_cap_minor: null, opens_after_sold_out: null });

  // Good bounds are shown as the range in GetEventById and the REST ticket type.
  const ok = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, {
    body: { price_floor: { currency: 'USD', amount_minor: 4000 }, price_cap: { currency: 'USD', amount_minor: 6000 } },
  });
  t.is(ok.status, 200);
  t.like(ok.body.price_range, { floor: { amount_minor: 4000 }, cap: { amount_minor: 6000 } });
  const byId = (await unaryCall(t.context.clients.ticket, 'GetEventById', { event_id: event.id })).response;
  const tt = byId.event.ticket_types.find((x: any) => x.id === type.id);
  t.deepEqual([Number(tt.price_floor.amount_minor), Number(tt.price_cap.amount_minor)], [4000, 6000]);
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

test('ticketctl seed writes rules that visibly act: far-off events show an early-bird price, 20 sales within 10 minutes add 15%', async (t) => {
  const seedClock = new FakeClock(intervalStart(Date.now()) + 1000);
  const seeded = await startTestService({ PRICE_UPDATE_INTERVAL: '60' }, undefined, { clock: seedClock });
  t.teardown(() => seeded.close());
  const run = await ticketctl(['seed', '--events', '12', '--json'], { DATABASE_URL: seeded.database.url, DATABASE_SSL: 'false' });
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { seeded: true, events: 12 });
  const { rows } = await seeded.db.query<{ id: string }>(
    `SELECT id FROM events WHERE created_by = 'ticketctl-seed' AND start_date > now() + interval '61 days' ORDER BY start_date LIMIT 1`,
  );
  t.truthy(rows[0], 'the seed spreads events over six months');
  const eventId = rows[0]!.id;
  const disclosure = (await seeded.api('GET', `/events/${eventId}/pricing`, { token: null })).body;
  t.true(disclosure.ticket_types.length > 0);
  for (const type of disclosure.ticket_types) {
    t.true(type.factors.some((f: any) => f.kind === 'time' && f.name === 'Early bird' && f.adjustment_bps === -1500), JSON.stringify(type.factors));
    t.true(type.current_price.amount_minor < type.base_price.amount_minor);
  }

  // A burst of 20 sales on the largest ticket type on sale: from the next boundary "Selling fast" adds 15%.
  const detail = (await seeded.api('GET', `/events/${eventId}`, { token: null })).body;
  const type = detail.ticket_types
    .filter((x: any) => x.sale_status === 'on_sale' && x.quantity >= 20)
    .sort((a: any, b: any) => b.quantity - a.quantity)[0];
  t.truthy(type, 'a seeded ticket type on sale with 20 seats or more');
  for (let sold = 0; sold < 20; ) {
    const quantity = Math.min(type.max_per_purchase, 20 - sold);
    await sell(seeded, eventId, type.id, quantity);
    sold += quantity;
  }
  await boundary(seeded, eventId, 0, seedClock);
  const priced = (await seeded.api('GET', `/events/${eventId}/pricing`, { token: null })).body.ticket_types.find((x: any) => x.ticket_type_id === type.id);
  t.true(priced.factors.some((f: any) => f.kind === 'velocity' && f.name === 'Selling fast' && f.adjustment_bps === 1500), JSON.stringify(priced.factors));
  const adjustment = priced.factors.reduce((sum: number, f: any) => sum + f.adjustment_bps, 0);
  t.is(priced.current_price.amount_minor, applyBps(priced.base_price.amount_minor, adjustment));
});

test.serial('prices survive a shard move unchanged: the new owner does not recompute within the interval', async (t) => {
  const env = { PRICE_UPDATE_INTERVAL: '60' };
  const podA = await startTestService(env, undefined, { clock });
  t.teardown(() => podA.close());
  const priced: { eventId: string; before: unknown }[] = [];
  for (let i = 0; i < 8; i++) {
    const event = await createEvent(podA);
    const type = await createTicketType(podA, event.id, { quantity: 10, max_per_purchase: 10, price: { currency: 'USD', amount_minor: 10_000 } });
    await addRule(podA, event.id, { kind: 'demand', threshold: 5000, adjustment_bps: 2500 });
    const before = await inv(podA).pricing(event.id);
    await sell(podA, event.id, type.id, 6); // past the threshold within the interval: the price holds until the boundary
    priced.push({ eventId: event.id, before: before.types });
  }
  const podB = await startTestService(env, podA, { clock });
  t.teardown(() => podB.close());
  const ownedByB = new Set(podB.service.inventory.shards.ownedShards());
  const moved = priced.filter((p) => ownedByB.has(shardOf(p.eventId, podB.config.shards.count)));
  t.true(moved.length > 0, 'some event moved to the second pod');
  for (const p of moved) {
    const after = await retryMoving(() => inv(podB).pricing(p.eventId));
    t.deepEqual(after.types, p.before);
    t.is(after.types[0]?.priceMinor, 10_000);
  }
});
