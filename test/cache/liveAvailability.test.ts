/**
 * The in-process live availability (src/cache/liveAvailability.ts) against a fake feed,
 * loader and clock: served without I/O within the TTL, refreshed once for concurrent
 * readers after it, replaced at once by feed messages, never overwritten by an older load.
 */
import test from 'ava';
import { pino } from 'pino';
import type { AvailabilityFeed, AvailabilityListener } from '../../src/cache/availabilityFeed.js';
import { createLiveAvailability, LIVE_AVAILABILITY_TTL_MS } from '../../src/cache/liveAvailability.js';
import type { AvailabilityJson } from '../../src/inventory/availabilityView.js';

const EVENT = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

// Fewer seats left is a later state: the version grows as availability falls.
function snapshot(eventId: string, available: number, version = 1000 - available): AvailabilityJson {
  return {
    event_id: eventId,
    version,
    event_locked: false,
    ticket_types: [
      {
        ticket_type_id: '33333333-3333-4333-8333-333333333333',
        name: 'GA',
        available,
        capacity: 100,
        sold: 100 - available,
        held: 0,
        locked: false,
        price: { currency: 'USD', amount_minor: 5000, display: '$50.00' },
        price_valid_until: null,
        status: 'on_sale',
      },
    ],
  };
}

function fakeFeed() {
  const listeners = new Map<string, Set<AvailabilityListener>>();
  const feed: AvailabilityFeed = {
    async publish(eventId, value) {
      for (const l of listeners.get(eventId) ?? []) l(JSON.stringify(value));
    },
    async subscribe(eventId, listener) {
      let set = listeners.get(eventId);
      if (!set) listeners.set(eventId, (set = new Set()));
      set.add(listener);
      return async () => {
        set.delete(listener);
      };
    },
  };
  const send = (eventId: string, raw: string) => {
    for (const l of listeners.get(eventId) ?? []) l(raw);
  };
  return { feed, send, subscribers: (eventId: string) => listeners.get(eventId)?.size ?? 0 };
}

function setup(maxEntries = 10) {
  const clock = { t: 1_000_000 };
  const { feed, send, subscribers } = fakeFeed();
  const current = new Map<string, AvailabilityJson>([[EVENT, snapshot(EVENT, 90)], [OTHER, snapshot(OTHER, 50)]]);
  const loads: string[] = [];
  let gate: Promise<void> | undefined;
  const live = createLiveAvailability({
    feed,
    load: async (eventId) => {
      loads.push(eventId);
      const value = current.get(eventId);
      if (gate) await gate;
      if (!value) throw new Error(`no event ${eventId}`);
      return value;
    },
    maxEntries,
    log: pino({ level: 'silent' }),
    now: () => clock.t,
  });
  return {
    live,
    clock,
    send,
    subscribers,
    current,
    loads,
    hold: () => {
      let release = () => undefined as void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('served without loading within the TTL, then refreshed once for all concurrent readers', async (t) => {
  const s = setup();
  t.is(s.live.peek(EVENT), undefined);
  t.is((await s.live.get(EVENT)).value.ticket_types[0]?.available, 90);
  t.deepEqual(s.loads, [EVENT]);
  s.clock.t += LIVE_AVAILABILITY_TTL_MS / 2 - 1;
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 90);
  await s.live.get(EVENT);
  t.is(s.loads.length, 1, 'no load within the first half of the TTL');

  s.current.set(EVENT, snapshot(EVENT, 80));
  s.clock.t += LIVE_AVAILABILITY_TTL_MS / 2 + 1;
  t.is(s.live.peek(EVENT), undefined, 'stale after the TTL');
  const read = await Promise.all(Array.from({ length: 20 }, () => s.live.get(EVENT)));
  t.is(s.loads.length, 2, 'one load for 20 concurrent readers');
  t.true(read.every((r) => r.value.ticket_types[0]?.available === 80));
  t.is(s.live.peek(EVENT)?.json, JSON.stringify(snapshot(EVENT, 80)));
  t.deepEqual(s.live.peek(EVENT)?.body, Buffer.from(JSON.stringify(snapshot(EVENT, 80))));
});

test('past half the TTL a read is answered at once and starts one background refresh', async (t) => {
  const s = setup();
  await s.live.get(EVENT);
  s.current.set(EVENT, snapshot(EVENT, 75));
  s.clock.t += LIVE_AVAILABILITY_TTL_MS / 2;
  const release = s.hold();
  for (let i = 0; i < 10; i++) t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 90, 'the current copy, without waiting');
  t.is(s.loads.length, 2, 'one refresh for ten readers');
  release();
  await settle();
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 75);
  s.clock.t += LIVE_AVAILABILITY_TTL_MS / 2 + 10;
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 75, 'the refresh re-confirmed it: still fresh past the first TTL');
});

test('a feed message replaces the snapshot at once, with no load and no clock movement', async (t) => {
  const s = setup();
  await s.live.get(EVENT);
  await settle(); // the subscription is confirmed
  t.is(s.subscribers(EVENT), 1);
  s.send(EVENT, JSON.stringify(snapshot(EVENT, 42)));
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 42);
  t.is((await s.live.get(EVENT)).value.ticket_types[0]?.available, 42);
  t.is(s.loads.length, 1);
  // A feed message also restarts the TTL: the snapshot is known to be current now.
  s.clock.t += LIVE_AVAILABILITY_TTL_MS - 1;
  s.send(EVENT, JSON.stringify(snapshot(EVENT, 41)));
  s.clock.t += LIVE_AVAILABILITY_TTL_MS - 1;
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 41);
});

test('a load that began before a feed message does not overwrite the newer snapshot', async (t) => {
  const s = setup();
  await s.live.get(EVENT);
  await settle();
  s.clock.t += LIVE_AVAILABILITY_TTL_MS; // stale: the next read loads
  const release = s.hold();
  const slow = s.live.get(EVENT); // reads 90 from the "projection", held back
  s.send(EVENT, JSON.stringify(snapshot(EVENT, 30)));
  release();
  await slow;
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 30);
});

test('invalidate sends the next read to the loader, and a load in flight before it is not reused', async (t) => {
  const s = setup();
  await s.live.get(EVENT);
  s.current.set(EVENT, snapshot(EVENT, 70));
  const release = s.hold();
  s.clock.t += LIVE_AVAILABILITY_TTL_MS;
  const before = s.live.get(EVENT); // in flight, started before the write
  s.live.invalidate(EVENT);
  release();
  await before;
  t.is(s.live.peek(EVENT), undefined, 'the pre-invalidation load is not trusted');
  t.is((await s.live.get(EVENT)).value.ticket_types[0]?.available, 70);
  t.is(s.loads.length, 3);
});

test('loader errors pass through and are not cached; unknown events leave no entry or subscription', async (t) => {
  const s = setup();
  const missing = '44444444-4444-4444-8444-444444444444';
  await t.throwsAsync(s.live.get(missing), { message: /no event/ });
  await t.throwsAsync(s.live.get(missing), { message: /no event/ });
  t.is(s.loads.filter((id) => id === missing).length, 2);
  await settle();
  t.is(s.subscribers(missing), 0);
});

test('an unreadable or foreign feed message makes the next read load', async (t) => {
  const s = setup();
  await s.live.get(EVENT);
  await settle();
  s.send(EVENT, 'not json');
  t.is(s.live.peek(EVENT), undefined);
  await s.live.get(EVENT);
  t.is(s.loads.length, 2);
  s.send(EVENT, JSON.stringify(snapshot(OTHER, 1)));
  t.is(s.live.peek(EVENT), undefined);
});

test('evicted events are unsubscribed; maxEntries 0 loads every time', async (t) => {
  const s = setup(1);
  await s.live.get(EVENT);
  await settle();
  t.is(s.subscribers(EVENT), 1);
  await s.live.get(OTHER);
  await settle();
  t.is(s.subscribers(EVENT), 0, 'evicted: unsubscribed');
  t.is(s.subscribers(OTHER), 1);

  const off = setup(0);
  await off.live.get(EVENT);
  await off.live.get(EVENT);
  t.is(off.loads.length, 2);
  t.is(off.live.peek(EVENT), undefined);
});

test('a late feed message older than the snapshot never takes it back; an equal version may replace it', async (t) => {
  const s = setup();
  await s.live.get(EVENT); // version 910 (90 left)
  await settle();
  s.send(EVENT, JSON.stringify(snapshot(EVENT, 95))); // version 905: older news, arriving late
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 90);
  const samePrice = snapshot(EVENT, 90);
  const newPrice = { ...samePrice, ticket_types: samePrice.ticket_types.map((tt) => ({ ...tt, price: { ...tt.price, amount_minor: 6000, display: '$60.00' } })) };
  s.send(EVENT, JSON.stringify(newPrice)); // same version, new catalog fact
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.price.amount_minor, 6000);
  t.is(s.loads.length, 1);
});

test('a view this pod projects replaces a held copy at once (and confirms it); older views and events not held are ignored', async (t) => {
  const s = setup();
  s.live.offer(snapshot(EVENT, 70));
  t.is(s.live.peek(EVENT), undefined, 'an event nobody read here is not taken in');
  t.deepEqual(s.loads, []);
  t.is(s.subscribers(EVENT), 0);

  t.is((await s.live.get(EVENT)).value.ticket_types[0]?.available, 90);
  s.clock.t += LIVE_AVAILABILITY_TTL_MS + 1; // stale: without news the next read would load
  s.live.offer(snapshot(EVENT, 85));
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 85, 'replaced and trusted again');
  s.live.offer(snapshot(EVENT, 88));
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 85, 'an older view never takes it back');

  // A load begun before the view does not overwrite it when it lands.
  s.clock.t += LIVE_AVAILABILITY_TTL_MS / 2 + 1;
  const release = s.hold();
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 85); // starts a background refresh
  s.live.offer(snapshot(EVENT, 60));
  release();
  await settle();
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 60);
  t.deepEqual(s.loads, [EVENT, EVENT]);
});

test('a view offered during an event’s first load wins over an older load result; an equal version replaces the copy', async (t) => {
  const s = setup();
  const release = s.hold();
  const first = s.live.get(EVENT); // the load read version 910 (90 left) before the commit below
  s.live.offer(snapshot(EVENT, 75));
  s.live.offer(snapshot(EVENT, 80)); // older than the one before: ignored
  release();
  t.is((await first).value.ticket_types[0]?.available, 75, 'the reader that was waiting gets the committed view');
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.available, 75);
  t.deepEqual(s.loads, [EVENT]);

  // The same version with another price (a catalog sync) replaces the copy.
  const repriced = snapshot(EVENT, 75);
  const type = repriced.ticket_types[0];
  if (!type) throw new Error('no ticket type');
  const withPrice: AvailabilityJson = { ...repriced, ticket_types: [{ ...type, price: { ...type.price, amount_minor: 4000, display: '$40.00' } }] };
  s.live.offer(withPrice);
  t.is(s.live.peek(EVENT)?.value.ticket_types[0]?.price.amount_minor, 4000);

  // A later first load of another event does not see the earlier event's offers.
  t.is((await s.live.get(OTHER)).value.ticket_types[0]?.available, 50);
});
