/**
 * When dynamic prices move, against real Postgres and Redis with the inventory's clock
 * driven by the test (PRICE_UPDATE_INTERVAL=60): a base-price or rule change at once, a
 * velocity rule on under a burst and off after its window; and when they do not: a
 * recovered actor, or the new owner after a shard move, shows the interval's prices unchanged.
 */
import { startTestService } from '../helpers/service.js';
import { retryMoving } from '../helpers/retry.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { desiredOwners } from '../../src/shards/assignment.js';
import { addRule, boundary, hold, INTERVAL_MS, inv, pricingClock, sell, shownPrices, withPricedPod } from '../helpers/dynamicPricing.js';

const clock = pricingClock();
const test = withPricedPod(clock);

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
  await boundary(svc, event.id, clock);
  const during = await shownPrices(t.context, event.id, type.id);
  t.is(during.grpcDynamic, 3300);
  t.like(during.dynamic.factors[0], { rule_id: velocity.id, kind: 'velocity' });
  t.is((await hold(svc, event.id, type.id, 1)).reservation.items[0]?.unitPriceMinor, 3300);

  await boundary(svc, event.id, clock, INTERVAL_MS); // more than the 120 s window after the burst
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
  // The second pod's name decides which shards it takes (rendezvous hashing): pick one
  // that takes some of these events, so the test never depends on a lucky split.
  const count = podA.config.shards.count;
  const nameB = Array.from({ length: 1000 }, (_, i) => `pod-b-${i}`).find((name) => {
    const owners = desiredOwners(count, [podA.config.pod.name, name], new Map());
    return priced.filter((p) => owners[shardOf(p.eventId, count)] === name).length >= 2;
  });
  if (nameB === undefined) throw new Error('no pod name takes two of the events');
  const podB = await startTestService({ ...env, POD_NAME: nameB }, podA, { clock });
  t.teardown(() => podB.close());
  const ownedByB = new Set(podB.service.inventory.shards.ownedShards());
  const moved = priced.filter((p) => ownedByB.has(shardOf(p.eventId, count)));
  t.true(moved.length >= 2, 'events moved to the second pod');
  for (const p of moved) {
    const after = await retryMoving(() => inv(podB).pricing(p.eventId));
    t.deepEqual(after.types, p.before);
    t.is(after.types[0]?.priceMinor, 10_000);
  }
});
