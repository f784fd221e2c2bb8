/**
 * The inventory's metrics, read from `/metrics` after real reservations, confirms,
 * releases, expiries and check-ins through a started service: each operation is counted
 * by its outcome, commits by theirs (a fenced one too), actors' activations and
 * passivations, BUSY refusals, availability publications, cache evictions and the
 * invariant gauge (0).
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { startTestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { sampleSum, scrape } from '../helpers/metricsText.js';
import { shardOf } from '../../src/shards/shardOf.js';

/** The error code a call fails with, or undefined when it succeeds. */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'none';
  }
}

test('reservations, confirms, releases, expiries and check-ins are counted by outcome, with commits, actors and publications', async (t) => {
  const clock = new FakeClock(Date.now());
  const svc = await startTestService({}, undefined, { clock });
  t.teardown(() => svc.close());
  const inv = svc.service.inventory.service;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 3, max_per_purchase: 10 });
  const reserve = (quantity: number, holdSeconds = 0, reservationId: string = randomUUID()) =>
    inv.reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity }], holdSeconds });

  const sold = await reserve(1);
  const confirmed = await inv.confirm(event.id, sold.reservation.id, 'pay-1');
  const released = await reserve(1);
  await inv.release(event.id, released.reservation.id);
  const expiring = await reserve(1, 1);
  t.is(await codeOf(reserve(5)), 'SOLD_OUT');
  const lateConfirm = await codeOf(inv.confirm(event.id, released.reservation.id));
  t.truthy(lateConfirm, 'confirming a released hold is refused');
  await clock.advance(1010); // the hold's timer fires and delivers its expiry
  await waitFor('the hold to expire', async () => (await inv.getReservation(event.id, expiring.reservation.id)).reservation.status === 'EXPIRED');
  const code = confirmed.tickets[0]?.code as string;
  t.is((await inv.checkIn(code, 'A')).result, 'CHECKED_IN');
  t.is((await inv.checkIn(code, 'A')).result, 'ALREADY_USED');
  await svc.service.inventory.flushProjections();

  let m = await scrape(svc);
  const ops = (operation: string, outcome: string) => sampleSum(m, 'ticket_inventory_operations_total', { operation, outcome });
  t.is(ops('reserve', 'ok'), 3);
  t.is(ops('reserve', 'SOLD_OUT'), 1);
  t.is(ops('confirm', 'ok'), 1);
  t.is(ops('confirm', lateConfirm as string), 1);
  t.is(ops('release', 'ok'), 1);
  t.is(ops('expire', 'EXPIRED'), 1);
  t.is(ops('checkin', 'CHECKED_IN'), 1);
  t.is(ops('checkin', 'ALREADY_USED'), 1);

  // Every write turn committed: reserve ×3, confirm, release, expiry, check-in ×2 at least (the first turn also registers the type).
  const commits = sampleSum(m, 'ticket_commits_total', { outcome: 'ok' });
  t.true(commits >= 7, `${commits} commits`);
  t.is(sampleSum(m, 'ticket_commits_total', { outcome: 'fenced' }), 0);
  t.is(sampleSum(m, 'ticket_commits_total', { outcome: 'failed' }), 0);
  t.is(sampleSum(m, 'ticket_commit_duration_seconds_count'), commits);
  t.true(sampleSum(m, 'ticket_actor_turn_messages_count') >= commits);
  t.is(sampleSum(m, 'ticket_actors_active'), 1);
  t.is(sampleSum(m, 'ticket_actor_activations_total', { outcome: 'ok' }), 1);
  t.is(sampleSum(m, 'ticket_actor_activation_seconds_count'), 1);
  t.is(sampleSum(m, 'ticket_inventory_oversold_ticket_types'), 0, 'the invariant holds');
  t.is(sampleSum(m, 'ticket_actor_mailbox_depth_max'), 0, 'nothing waits now');
  const published = sampleSum(m, 'ticket_availability_publications_total', { outcome: 'ok' });
  t.true(published >= 1);
  t.is(sampleSum(m, 'ticket_availability_publication_lag_seconds_count'), published);

  // Passivation and a recovery on the next command.
  await svc.service.inventory.registry.passivate(event.id);
  m = await scrape(svc);
  t.is(sampleSum(m, 'ticket_actor_passivations_total'), 1);
  t.is(sampleSum(m, 'ticket_actors_active'), 0);
  await reserve(1);
  m = await scrape(svc);
  t.is(sampleSum(m, 'ticket_actor_activations_total', { outcome: 'ok' }), 2);
  t.is(sampleSum(m, 'ticket_actors_active'), 1);
  t.is(ops('reserve', 'ok'), 4);
});

test('a full mailbox refuses with BUSY, and each refusal is counted', async (t) => {
  const svc = await startTestService({ ACTOR_MAILBOX_CAPACITY: '2' });
  t.teardown(() => svc.close());
  const inv = svc.service.inventory.service;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 100, max_per_purchase: 10 });
  // All sent at once to an actor still activating: two wait in its mailbox, the rest are refused.
  const codes = await Promise.all(
    Array.from({ length: 30 }, () => codeOf(inv.reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] }))),
  );
  const busy = codes.filter((c) => c === 'BUSY').length;
  t.true(busy > 0, 'some were refused');
  const m = await scrape(svc);
  t.is(sampleSum(m, 'ticket_actor_busy_refusals_total'), busy);
  t.is(sampleSum(m, 'ticket_inventory_operations_total', { operation: 'reserve', outcome: 'BUSY' }), busy);
  t.is(sampleSum(m, 'ticket_inventory_operations_total', { operation: 'reserve', outcome: 'ok' }), codes.filter((c) => c === undefined).length);
});

test('a commit under an epoch another owner bumped is counted as fenced', async (t) => {
  const svc = await startTestService(); // its own database: its shard is taken from under it
  t.teardown(() => svc.close());
  const inv = svc.service.inventory.service;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  const reserve = () => inv.reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  await reserve();
  t.is(sampleSum(await scrape(svc), 'ticket_commits_total', { outcome: 'fenced' }), 0);
  await svc.db.query('UPDATE shard_owners SET epoch = epoch + 1, owner_pod = $1 WHERE shard_id = $2', ['usurper', shardOf(event.id, svc.config.shards.count)]);
  // Refused under the old epoch; the pod takes the shard back and the call runs again there.
  await reserve();
  const m = await scrape(svc);
  t.is(sampleSum(m, 'ticket_commits_total', { outcome: 'fenced' }), 1);
  t.true(sampleSum(m, 'ticket_fenced_commits_total') >= 1);
  t.is(sampleSum(m, 'ticket_inventory_operations_total', { operation: 'reserve', outcome: 'SHARD_MOVING' }), 1, 'the fenced attempt');
  t.is(sampleSum(m, 'ticket_inventory_operations_total', { operation: 'reserve', outcome: 'ok' }), 2);
});

test('in-process cache copies dropped for room are counted as evictions', async (t) => {
  const svc = await startTestService({ CACHE_MAX_SIZE: '1' });
  t.teardown(() => svc.close());
  const [a, b] = [await createEvent(svc), await createEvent(svc)];
  for (const e of [a, b, a]) t.is((await svc.api('GET', `/events/${e.id}`, { token: null })).status, 200);
  // One local copy at most: reading b evicts a, reading a again evicts b.
  t.is(sampleSum(await scrape(svc), 'cache_evictions_total', { cache: 'event' }), 2);
});
