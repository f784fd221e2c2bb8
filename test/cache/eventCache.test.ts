import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';

const test = anyTest as TestFn<{ svc: TestService; redis: Redis }>;
test.before(async (t) => {
  // CACHE_MAX_SIZE=0: no in-process layer here, so these tests see Redis alone.
  t.context.svc = await startTestService({ CACHE_TTL_EVENTS: '120', CACHE_MAX_SIZE: '0' });
  t.context.redis = new Redis(t.context.svc.redisUrl, { db: 0, keyPrefix: t.context.svc.config.redis.keyPrefix });
});
test.after.always(async (t) => {
  t.context.redis?.disconnect();
  await t.context.svc?.close();
});

test('GET /events/:id is served cache-aside with CACHE_TTL_EVENTS', async (t) => {
  const { svc, redis } = t.context;
  const event = await createEvent(svc, { title: 'Original' });
  t.is(await redis.exists(`event:${event.id}`), 0);
  t.is((await svc.api('GET', `/events/${event.id}`)).body.title, 'Original');
  const ttl = await redis.ttl(`event:${event.id}`);
  t.true(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
  // A change behind the service's back is not seen until the entry goes: proof the cache serves.
  await svc.db.query(`UPDATE events SET title = 'Changed in SQL' WHERE id = $1`, [event.id]);
  t.is((await svc.api('GET', `/events/${event.id}`)).body.title, 'Original');
  await redis.del(`event:${event.id}`);
  t.is((await svc.api('GET', `/events/${event.id}`)).body.title, 'Changed in SQL');
  const metrics = (await svc.api('GET', '/metrics')).body as string;
  t.regex(metrics, /cache_lookups_total\{[^}]*cache="event"[^}]*result="hit"[^}]*\} [1-9]/);
});

test('admin writes invalidate the cached event', async (t) => {
  const { svc, redis } = t.context;
  const event = await createEvent(svc);
  await svc.api('GET', `/events/${event.id}`);
  t.is(await redis.exists(`event:${event.id}`), 1);
  await svc.api('PUT', `/events/${event.id}`, { body: { title: 'Renamed' } });
  t.is(await redis.exists(`event:${event.id}`), 0);
  t.is((await svc.api('GET', `/events/${event.id}`)).body.title, 'Renamed');

  const type = await createTicketType(svc, event.id, { quantity: 5 });
  const detail = (await svc.api('GET', `/events/${event.id}`)).body;
  t.is(detail.ticket_types.length, 1);
  await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { quantity: 7 } });
  t.is((await svc.api('GET', `/events/${event.id}`)).body.ticket_types[0].quantity, 7);
  await svc.api('DELETE', `/events/${event.id}/tickets/${type.id}`);
  t.is((await svc.api('GET', `/events/${event.id}`)).body.ticket_types.length, 0);
  await svc.api('DELETE', `/events/${event.id}`);
  t.is((await svc.api('GET', `/events/${event.id}`)).status, 404);
});

test('CACHE_TTL_EVENTS=0 turns the cache off', async (t) => {
  const svc = await startTestService({ CACHE_TTL_EVENTS: '0' });
  const redis = new Redis(svc.redisUrl, { db: 0, keyPrefix: svc.config.redis.keyPrefix });
  try {
    const event = await createEvent(svc);
    await svc.api('GET', `/events/${event.id}`);
    t.is(await redis.exists(`event:${event.id}`), 0);
    await svc.db.query(`UPDATE events SET title = 'Fresh' WHERE id = $1`, [event.id]);
    t.is((await svc.api('GET', `/events/${event.id}`)).body.title, 'Fresh');
  } finally {
    redis.disconnect();
    await svc.close();
  }
});

test('a venue update invalidates the cached events held there', async (t) => {
  const { svc, redis } = t.context;
  const venue = (await svc.api('POST', '/venues', { body: { name: 'Old Name', address: 'a', city: 'Oslo', country: 'Norway' } })).body;
  const event = await createEvent(svc, { venue_id: venue.id });
  t.is((await svc.api('GET', `/events/${event.id}`)).body.venue.name, 'Old Name');
  await svc.api('PUT', `/venues/${venue.id}`, { body: { name: 'New Name' } });
  t.is(await redis.exists(`event:${event.id}`), 0);
  t.is((await svc.api('GET', `/events/${event.id}`)).body.venue.name, 'New Name');
});

test('the in-process layer serves repeats and every pod drops it on an admin write', async (t) => {
  const podA = await startTestService({ CACHE_TTL_EVENTS: '120', CACHE_MAX_SIZE: '100' });
  const podB = await startTestService({ CACHE_TTL_EVENTS: '120', CACHE_MAX_SIZE: '100' }, podA);
  const redis = new Redis(podA.redisUrl, { db: 0, keyPrefix: podA.config.redis.keyPrefix });
  try {
    const event = await createEvent(podA, { title: 'Before' });
    t.is((await podA.api('GET', `/events/${event.id}`)).body.title, 'Before');
    // Gone from Redis but still served by pod A's local copy (within LOCAL_TTL_MS).
    await redis.del(`event:${event.id}`);
    await podA.db.query(`UPDATE events SET title = 'Sneaky' WHERE id = $1`, [event.id]);
    t.is((await podA.api('GET', `/events/${event.id}`)).body.title, 'Before');
    const metrics = (await podA.api('GET', '/metrics')).body as string;
    t.regex(metrics, /cache_lookups_total\{[^}]*cache="event"[^}]*result="local_hit"[^}]*\} [1-9]/);
    // An admin write through pod B reaches pod A's local layer over pub/sub.
    t.is((await podB.api('PUT', `/events/${event.id}`, { body: { title: 'After' } })).status, 200);
    let title = '';
    for (let i = 0; i < 20 && title !== 'After'; i++) {
      title = (await podA.api('GET', `/events/${event.id}`)).body.title;
      if (title !== 'After') await new Promise((r) => setTimeout(r, 25));
    }
    t.is(title, 'After');
  } finally {
    redis.disconnect();
    await podB.close();
    await podA.close();
  }
});

test.serial('search results are cached and a catalog write retires them', async (t) => {
  const { svc } = t.context;
  await createEvent(svc, { title: 'Zeppelin Night' });
  const first = await svc.api('GET', '/events/search?q=zeppelin');
  t.is(first.body.total, 1);
  await svc.db.query(`INSERT INTO events (title, category, start_date, end_date) VALUES ('Zeppelin Matinee', 'concerts', now() + interval '9 days', now() + interval '9 days 2 hours')`);
  t.is((await svc.api('GET', '/events/search?q=zeppelin')).body.total, 1, 'served from the cache');
  await createEvent(svc, { title: 'Unrelated Gala' });
  t.is((await svc.api('GET', '/events/search?q=zeppelin')).body.total, 2, 'the write retired cached searches');
});

test('an inventory change NOTIFYed by Postgres drops the cached event detail', async (t) => {
  const { svc, redis } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 3 });
  // Let the notification of the ticket type's own registration pass first.
  await svc.service.inventory.flushProjections();
  await new Promise((r) => setTimeout(r, 200));
  await svc.api('GET', `/events/${event.id}`);
  t.is(await redis.exists(`event:${event.id}`), 1);
  await svc.service.inventory.service.reserve(event.id, { reservationId: randomUUID(), items: [{ ticketTypeId: type.id, quantity: 1 }] });
  await svc.service.inventory.flushProjections();
  let exists = 1;
  for (let i = 0; i < 50 && exists === 1; i++) {
    await new Promise((r) => setTimeout(r, 20));
    exists = await redis.exists(`event:${event.id}`);
  }
  t.is(exists, 0);
});
