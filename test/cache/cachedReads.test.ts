/**
 * Cached reads end to end: GET /events/:id and GET /events/:id/tickets answered from the
 * in-process live availability (fed over Redis pub/sub) and serialized bodies, on two pods
 * sharing one database and Redis. Changes show up promptly on the other pod, the feed
 * (not only the TTL) refreshes the copy, and bad input is answered as before.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import { LIVE_AVAILABILITY_TTL_MS } from '../../src/cache/liveAvailability.js';
import { createEvent, createTicketType, MISSING_ID } from '../helpers/fixtures.js';
import { startTestService, type TestService } from '../helpers/service.js';

const test = anyTest as TestFn<{ podA: TestService; podB: TestService; redis: Redis }>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async (t) => {
  t.context.podA = await startTestService();
  t.context.podB = await startTestService({}, t.context.podA);
  t.context.redis = new Redis(t.context.podA.redisUrl, { db: 0 });
});
test.after.always(async (t) => {
  t.context.redis?.disconnect();
  await t.context.podB?.close();
  await t.context.podA?.close();
});

/** Poll `read` until `done` holds or `ms` pass; returns the last value and the time taken. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  let value = await read();
  while (!done(value) && Date.now() - started < ms) {
    await sleep(5);
    value = await read();
  }
  return { value, elapsedMs: Date.now() - started };
}

test('a reservation on one pod shows in the other pod’s cached availability and event detail promptly', async (t) => {
  const { podA, podB } = t.context;
  const event = await createEvent(podA);
  const type = await createTicketType(podA, event.id, { quantity: 10 });
  // Pod B reads (and so caches and subscribes) both views, once pod A's projection of the new type is out.
  const available = (r: any) => r.body.ticket_types?.[0]?.available;
  t.is(available((await until(() => podB.api('GET', `/events/${event.id}/tickets`), (r) => available(r) === 10)).value), 10);
  t.is(available((await until(() => podB.api('GET', `/events/${event.id}`), (r) => available(r) === 10)).value), 10);
  await sleep(50); // the feed subscription is confirmed

  // The event's actor may live on pod B (the reserve is then forwarded with the caller's
  // token), and right after the two pods start a shard may still be moving: retry that.
  const inventory = podA.service.inventory.service.as({ authorization: `Bearer ${podA.adminToken}` });
  const reserve = { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 3 }] };
  await until(
    () => inventory.reserve(event.id, reserve).then(() => true, (err: { code?: string }) => (err.code === 'SHARD_MOVING' ? false : Promise.reject(err))),
    (done) => done,
    20_000,
  );
  const tickets = await until(() => podB.api('GET', `/events/${event.id}/tickets`), (r) => r.body.ticket_types[0].available === 7);
  t.like(tickets.value.body.ticket_types[0], { ticket_type_id: type.id, available: 7, held: 3, capacity: 10 });
  t.regex(tickets.value.headers.get('content-type') ?? '', /^application\/json; charset=utf-8$/);
  const detail = await until(() => podB.api('GET', `/events/${event.id}`), (r) => r.body.ticket_types[0].available === 7);
  t.like(detail.value.body.ticket_types[0], { id: type.id, available: 7, quantity: 10 });
  t.is(detail.value.body.id, event.id);
});

test('the pub/sub feed replaces the cached availability at once; the TTL brings back what Redis holds', async (t) => {
  const { podA, podB, redis } = t.context;
  const event = await createEvent(podA);
  await createTicketType(podA, event.id, { quantity: 10 });
  const real = (await until(() => podB.api('GET', `/events/${event.id}/tickets`), (r) => r.body.ticket_types?.length === 1)).value.body;
  await podB.api('GET', `/events/${event.id}`); // pod B holds the event's detail too (the availability route needs only its status)
  await sleep(50);
  // A feed message that Redis's stored projection does not hold: only the feed can put it in pod B's copy.
  const fake = { ...real, version: real.version, ticket_types: real.ticket_types.map((x: any) => ({ ...x, available: 1 })) };
  await redis.publish(`${podA.config.redis.keyPrefix}availability:${event.id}`, JSON.stringify(fake));
  const fed = await until(() => podB.api('GET', `/events/${event.id}/tickets`), (r) => r.body.ticket_types[0].available === 1, 1000);
  t.is(fed.value.body.ticket_types[0].available, 1, 'the feed message is served');
  t.is((await podB.api('GET', `/events/${event.id}`)).body.ticket_types[0].available, 1, 'and laid over the event detail');
  // Staleness is bounded: after the TTL the next read goes back to the stored projection.
  await sleep(LIVE_AVAILABILITY_TTL_MS + 50);
  t.is((await podB.api('GET', `/events/${event.id}/tickets`)).body.ticket_types[0].available, 10);
});

test('an admin change is visible to the writer’s own next read', async (t) => {
  const { podA } = t.context;
  const event = await createEvent(podA);
  const type = await createTicketType(podA, event.id, { quantity: 10 });
  t.is((await podA.api('GET', `/events/${event.id}/tickets`)).body.ticket_types[0].capacity, 10);
  t.is((await podA.api('GET', `/events/${event.id}`)).body.ticket_types[0].quantity, 10);
  t.is((await podA.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { quantity: 25 } })).status, 200);
  t.is((await podA.api('GET', `/events/${event.id}/tickets`)).body.ticket_types[0].capacity, 25);
  t.is((await podA.api('GET', `/events/${event.id}`)).body.ticket_types[0].quantity, 25);
  t.is((await podA.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { status: 'locked' } })).status, 200);
  t.is((await podA.api('GET', `/events/${event.id}/tickets`)).body.ticket_types[0].status, 'locked');
});

test('bad input is answered as before, with the caches warm', async (t) => {
  const { podA } = t.context;
  const event = await createEvent(podA);
  await createTicketType(podA, event.id);
  for (let i = 0; i < 3; i++) {
    t.is((await podA.api('GET', `/events/${event.id}`)).status, 200);
    t.is((await podA.api('GET', `/events/${event.id}/tickets`)).status, 200);
  }
  for (const path of ['/events/not-a-uuid', '/events/not-a-uuid/tickets', `/events/${event.id.slice(0, -1)}`]) {
    const res = await podA.api('GET', path);
    t.is(res.status, 400, path);
    t.is(res.body.error.code, 'VALIDATION', path);
  }
  for (const path of [`/events/${MISSING_ID}`, `/events/${MISSING_ID}/tickets`]) {
    const res = await podA.api('GET', path);
    t.is(res.status, 404, path);
    t.is(res.body.error.code, 'NOT_FOUND', path);
  }
  t.is((await podA.api('GET', `/events/${event.id}/nothing`)).status, 404);
  t.is((await podA.api('GET', `/events/${event.id}/`)).status, 200, 'a trailing slash still reaches the route');
  t.is((await podA.api('HEAD', `/events/${event.id}`)).status, 200);
  t.is((await podA.api('POST', `/events/${event.id}`, { body: {} })).status, 405);
  t.is((await podA.api('GET', '/events/search?q=test')).status, 200);
  t.is((await podA.api('GET', '/events/categories')).status, 200);
});

// Serial: it counts requests on pod B, which the other tests also read from.
test.serial('cached answers carry the same headers and bytes as the regular route', async (t) => {
  const { podA, podB } = t.context;
  const event = await createEvent(podA);
  await createTicketType(podA, event.id);
  for (const path of [`/events/${event.id}`, `/events/${event.id}/tickets`]) {
    const first = await fetch(`${podB.service.httpUrl}${path}`); // regular route: loads and caches
    const firstBody = await first.text();
    const second = await fetch(`${podB.service.httpUrl}${path}`, { headers: { 'x-request-id': 'req-42' } });
    t.is(await second.text(), firstBody, path);
    t.is(second.status, 200);
    t.is(second.headers.get('content-type'), first.headers.get('content-type'));
    t.is(second.headers.get('content-length'), first.headers.get('content-length'));
    t.is(second.headers.get('x-request-id'), 'req-42');
  }
  const metrics = (await podB.api('GET', '/metrics')).body as string;
  t.regex(metrics, /http_requests_total\{[^}]*route="\/events\/:id"[^}]*status="200"[^}]*\} 2\n/);
  t.regex(metrics, /cache_lookups_total\{[^}]*cache="event"[^}]*result="local_hit"[^}]*\} [1-9]/);
});
