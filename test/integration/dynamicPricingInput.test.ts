/**
 * Pricing rules and price bounds as admins enter them, against real Postgres: bad rules,
 * rule updates and ticket-type bounds or tier links are refused with VALIDATION and store
 * nothing; good bounds are shown as the price range; a currency change restates them.
 */
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { unaryCall } from '../helpers/grpc.js';
import { addRule, pricingClock, withPricedPod } from '../helpers/dynamicPricing.js';

const test = withPricedPod(pricingClock());

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

  // A currency change must restate the bounds (they are amounts in the old currency), or clear them.
  const bounds = () => svc.db.query('SELECT currency, price_minor, price_floor_minor, price_cap_minor FROM ticket_types WHERE id = $1', [type.id]);
  const before = (await bounds()).rows[0];
  const euro = { currency: 'EUR', amount_minor: 4500 };
  for (const body of [{ price: euro }, { price: euro, price_floor: { currency: 'EUR', amount_minor: 3500 } }]) {
    const res = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body });
    t.is(res.status, 400, JSON.stringify(body));
    t.like(res.body.error, { code: 'VALIDATION', details: { field: 'price_floor' in body ? 'price_cap' : 'price_floor' } });
  }
  t.deepEqual((await bounds()).rows[0], before, 'nothing changed');
  const restated = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, {
    body: { price: euro, price_floor: { currency: 'EUR', amount_minor: 3500 }, price_cap: null },
  });
  t.is(restated.status, 200);
  t.like((await bounds()).rows[0], { currency: 'EUR', price_floor_minor: '3500', price_cap_minor: null });
});
