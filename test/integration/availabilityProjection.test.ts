/**
 * The coalesced projections against real Redis and Postgres: after a burst of reserves over
 * many events every event's live view in Redis is its latest state; the many-key Lua script
 * never lets a version go backwards, publishes only real changes and skips a key of another
 * type without failing the others; views queued while Redis is unreachable arrive once it
 * is back, with no new change; the Postgres counters of many events are written by one flush
 * with a NOTIFY per event.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { startTestService, type TestService } from '../helpers/service.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { createAvailabilityPublisher } from '../../src/inventory/availabilityPublisher.js';
import type { AvailabilityJson } from '../../src/inventory/availabilityView.js';
import { createRedisAvailabilitySink } from '../../src/inventory/redisAvailabilitySink.js';
import { availabilityView } from '../helpers/availabilityViews.js';
import { createCounterProjection } from '../../src/inventory/counterProjection.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { waitFor } from '../helpers/clusterProcess.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const view = availabilityView;

async function catalog(svc: TestService, n: number, quantity: number): Promise<{ eventId: string; typeId: string }[]> {
  const out: { eventId: string; typeId: string }[] = [];
  for (let i = 0; i < n; i += 10) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(10, n - i) }, async () => {
          const event = await createEvent(svc);
          const type = await createTicketType(svc, event.id, { quantity, max_per_purchase: 10 });
          return { eventId: event.id as string, typeId: type.id as string };
        }),
      )),
    );
  }
  return out;
}

test('after a burst of reserves over 60 events, every event’s view in Redis is its latest state', async (t) => {
  const { svc } = t.context;
  const inv = svc.service.inventory.service;
  const events = await catalog(svc, 60, 1000);
  const held = new Map<string, number>();
  await Promise.all(
    Array.from({ length: 600 }, async (_, i) => {
      const e = events[i % events.length]!;
      const quantity = 1 + (i % 4);
      await inv.reserve(e.eventId, { reservationId: randomUUID(), items: [{ ticketTypeId: e.typeId, quantity }] });
      held.set(e.eventId, (held.get(e.eventId) ?? 0) + quantity);
    }),
  );
  const redis = new Redis(svc.redisUrl, { keyPrefix: svc.config.redis.keyPrefix });
  try {
    for (const e of events) {
      // Read-your-writes: this pod's read waits for its own pending view.
      const live = await inv.availability(e.eventId);
      t.like(live.ticket_types[0], { held: held.get(e.eventId), available: 1000 - (held.get(e.eventId) ?? 0) }, e.eventId);
      const stored = JSON.parse((await redis.hget(`availability:${e.eventId}`, 'json')) ?? 'null') as AvailabilityJson;
      t.is(stored.version, live.version);
      t.is(Number(await redis.hget(`availability:${e.eventId}`, 'v')), live.version);
    }
  } finally {
    redis.disconnect();
  }
});

test('the many-key script keeps the newest version, publishes only real changes, and skips a key of another type', async (t) => {
  const { svc } = t.context;
  const prefix = `proj${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(svc.redisUrl, { keyPrefix: prefix });
  const sub = new Redis(svc.redisUrl);
  try {
    const sink = createRedisAvailabilitySink(redis, { keyPrefix: prefix, ttlSeconds: 60 }, log);
    const ids = Array.from({ length: 300 }, () => randomUUID());
    const messages: string[] = [];
    await sub.psubscribe(`${prefix}availability:*`);
    sub.on('pmessage', (_p, channel) => messages.push(channel));

    await sink.publish(ids.map((id) => ({ eventId: id, version: 10, json: JSON.stringify(view(id, 10, 50)) })));
    // Older for the first 100, same version and content for the next 100, newer for the rest;
    // and one key of another type in the middle of the call.
    await redis.set('availability:wrong-type', 'x');
    await sink.publish([
      ...ids.slice(0, 100).map((id) => ({ eventId: id, version: 9, json: JSON.stringify(view(id, 9, 60)) })),
      { eventId: 'wrong-type', version: 1, json: '{}' },
      ...ids.slice(100, 200).map((id) => ({ eventId: id, version: 10, json: JSON.stringify(view(id, 10, 50)) })),
      ...ids.slice(200).map((id) => ({ eventId: id, version: 11, json: JSON.stringify(view(id, 11, 40)) })),
    ]);
    for (const [i, id] of ids.entries()) {
      const v = Number(await redis.hget(`availability:${id}`, 'v'));
      t.is(v, i < 200 ? 10 : 11, `${i}`);
    }
    t.true((await redis.ttl(`availability:${ids[0]}`)) > 0);
    t.is(await redis.get('availability:wrong-type'), 'x', 'left alone');
    await sleep(100);
    t.is(messages.length, 300 + 100, 'one message per first write and per newer version only');
  } finally {
    redis.disconnect();
    sub.disconnect();
  }
});

test('views queued while Redis is unreachable arrive when it is back, with no new change', async (t) => {
  const { svc } = t.context;
  const prefix = `proj${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(svc.redisUrl, { keyPrefix: prefix, enableOfflineQueue: false, retryStrategy: () => null });
  const reader = new Redis(svc.redisUrl, { keyPrefix: prefix });
  try {
    const clock = new FakeClock();
    const flushes: string[] = [];
    const publisher = createAvailabilityPublisher(
      createRedisAvailabilitySink(redis, { keyPrefix: prefix, ttlSeconds: 0 }, log),
      { retryMs: 50, maxPerFlush: 1000, settleTimeoutMs: 1000, clock, onFlush: (outcome) => flushes.push(outcome) },
      log,
    );
    const ids = Array.from({ length: 20 }, () => randomUUID());
    await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
    redis.disconnect(); // the connection is gone: commands fail at once
    await waitFor('the connection to end', async () => redis.status === 'end');
    for (const id of ids) publisher.mark(view(id, 3, 97));
    await waitFor('the first flush to fail', async () => flushes.length > 0);
    t.deepEqual(flushes, ['failed']);
    t.is(await reader.exists(...ids.map((id) => `availability:${id}`)), 0);
    t.is(redis.status, 'end', 'still disconnected after the failed flush');
    await redis.connect();
    await clock.advance(49);
    t.deepEqual(flushes, ['failed'], 'the retry waits its delay');
    await clock.advance(1);
    await waitFor('the retry', async () => flushes.length > 1);
    t.deepEqual(flushes, ['failed', 'ok'], 'sent again with no new change');
    for (const id of ids) t.is(Number(await reader.hget(`availability:${id}`, 'v')), 3, id);
    await publisher.stop();
  } finally {
    redis.disconnect();
    reader.disconnect();
  }
});

test('the Postgres counters of many events are written by one flush, with a NOTIFY per event', async (t) => {
  const { svc } = t.context;
  const inv = svc.service.inventory.service;
  const events = await catalog(svc, 30, 100);
  const listener = new pg.Client({ connectionString: svc.database.url });
  await listener.connect();
  const notified = new Set<string>();
  listener.on('notification', (n) => notified.add(n.payload ?? ''));
  await listener.query('LISTEN inventory_changed');
  try {
    await Promise.all(events.map((e) => inv.reserve(e.eventId, { reservationId: randomUUID(), items: [{ ticketTypeId: e.typeId, quantity: 3 }] })));
    await svc.service.inventory.flushProjections();
    const { rows } = await svc.db.query<{ available_quantity: number }>('SELECT available_quantity FROM ticket_types WHERE id = ANY($1::uuid[])', [
      events.map((e) => e.typeId),
    ]);
    t.is(rows.length, 30);
    t.true(rows.every((r) => r.available_quantity === 97));
    for (let i = 0; i < 50 && events.some((e) => !notified.has(e.eventId)); i++) await sleep(20);
    t.true(events.every((e) => notified.has(e.eventId)));
  } finally {
    await listener.end();
  }
});

test('a counter write from an older journal seq (a pod that lost the shard, late) changes nothing', async (t) => {
  const { svc } = t.context;
  const [e] = await catalog(svc, 1, 100);
  if (!e) throw new Error('no catalog');
  const counters = createCounterProjection(svc.db, { intervalMs: 60_000 }, log);
  t.teardown(() => counters.stop());
  const levels = (sold: number) => ({ [e.typeId]: { capacity: 100, sold, held: 0, locked: false } });
  const read = async () =>
    (await svc.db.query<{ sold_quantity: number; inventory_seq: string }>('SELECT sold_quantity, inventory_seq FROM ticket_types WHERE id = $1', [e.typeId])).rows[0];
  counters.mark(e.eventId, levels(5), 10);
  await counters.flush();
  t.deepEqual(await read(), { sold_quantity: 5, inventory_seq: '10' });
  counters.mark(e.eventId, levels(2), 7); // the old owner's figures, arriving late
  await counters.flush();
  t.deepEqual(await read(), { sold_quantity: 5, inventory_seq: '10' });
  counters.mark(e.eventId, levels(8), 12);
  await counters.flush();
  t.deepEqual(await read(), { sold_quantity: 8, inventory_seq: '12' });
});
