/**
 * The coalesced availability projection against a fake sink, on a clock the test moves by
 * hand: one sink call per tick for a burst over many events carrying each event's latest
 * view, versions that never go backwards across overlapping flushes, retry after a sink
 * failure without a new change, flushes at least `minIntervalMs` apart unless a reader
 * waits, and read-your-writes through `settled` within its bound.
 */
import test from 'ava';
import { pino } from 'pino';
import { sleep } from '../../actors/runtime/clock.js';
import { createAvailabilityPublisher, type AvailabilitySink, type PublisherOptions, type PublishItem } from '../../src/inventory/availabilityPublisher.js';
import type { AvailabilityJson } from '../../src/inventory/availabilityView.js';
import { availabilityView } from '../helpers/availabilityViews.js';
import { FakeClock, settle as tick } from '../helpers/fakeClock.js';

const log = pino({ level: 'silent' });

const view = availabilityView;

/** A publisher on a fresh FakeClock (a sink's delays, given as `delayMs`, run on it too). */
function onFakeClock(sink: (clock: FakeClock) => AvailabilitySink, options: Omit<PublisherOptions, 'clock'>) {
  const clock = new FakeClock();
  return { clock, pub: createAvailabilityPublisher(sink(clock), { ...options, clock }, log) };
}

/** A sink that records calls, takes `delayMs` on the clock per call, and fails while `failing` is set. */
function fakeSink(opts: { delayMs?: number } = {}) {
  const calls: PublishItem[][] = [];
  /** Latest version applied per event (what Redis would hold), with the monotonic guard. */
  const stored = new Map<string, { version: number; json: string }>();
  const received = new Map<string, number[]>();
  const state = { failing: false };
  const on = (clock: FakeClock): AvailabilitySink => ({
    async publish(items) {
      calls.push([...items]);
      if (opts.delayMs) await sleep(clock, opts.delayMs);
      if (state.failing) throw new Error('redis down');
      for (const i of items) {
        (received.get(i.eventId) ?? received.set(i.eventId, []).get(i.eventId))?.push(i.version);
        const cur = stored.get(i.eventId);
        if (!cur || cur.version <= i.version) stored.set(i.eventId, { version: i.version, json: i.json });
      }
    },
  });
  return { on, calls, stored, received, state };
}

/** `sink`, recording when (on the clock) each flush starts. */
function timedSink(sink: (clock: FakeClock) => AvailabilitySink) {
  const at: number[] = [];
  const on = (clock: FakeClock): AvailabilitySink => {
    const inner = sink(clock);
    return {
      async publish(items) {
        at.push(clock.monotonic());
        await inner.publish(items);
      },
    };
  };
  return { on, at };
}

/** A publisher whose flushes start at least 30 ms apart, recording when each starts. */
function flushingEvery30ms() {
  const f = fakeSink();
  const { on, at } = timedSink(f.on);
  return { f, at, ...onFakeClock(on, { retryMs: 20, maxPerFlush: 100, settleTimeoutMs: 1000, minIntervalMs: 30 }) };
}

/** Move `clock` 1 ms at a time until `done()` holds; returns how far it moved. */
async function advanceUntil(clock: FakeClock, done: () => boolean, limitMs = 10_000): Promise<number> {
  await tick();
  let moved = 0;
  for (; !done(); moved++) {
    if (moved >= limitMs) throw new Error(`still waiting after ${limitMs} ms on the clock`);
    await clock.advance(1);
  }
  return moved;
}

/** `work`'s result, moving `clock` until it is there (the sink's delays and the retries run on it). */
async function moving<T>(clock: FakeClock, work: Promise<T>): Promise<T> {
  let over = false;
  const watched = work.finally(() => (over = true));
  await advanceUntil(clock, () => over);
  return watched;
}

test('a burst over 1,000 events in one tick is one sink call carrying every event once, at its latest version', async (t) => {
  const f = fakeSink();
  const { pub } = onFakeClock(f.on, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000 });
  const events = Array.from({ length: 1000 }, (_, i) => `e${i}`);
  for (let v = 1; v <= 3; v++) for (const e of events) pub.mark(view(e, v));
  t.is(f.calls.length, 0, 'nothing is sent inside the tick');
  await tick();
  await pub.flush();
  t.is(f.calls.length, 1);
  t.is(f.calls[0]?.length, 1000);
  for (const e of events) {
    t.is(f.stored.get(e)?.version, 3, e);
    t.is((JSON.parse(f.stored.get(e)?.json ?? '{}') as AvailabilityJson).ticket_types[0]?.available, 97);
  }
  await pub.stop();
});

test('a hot event marked 50 times in a tick is sent once, with its last view', async (t) => {
  const f = fakeSink();
  const { pub } = onFakeClock(f.on, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000 });
  for (let v = 1; v <= 50; v++) pub.mark(view('hot', v));
  await pub.flush();
  t.deepEqual(
    f.calls.map((c) => c.map((i) => [i.eventId, i.version])),
    [[['hot', 50]]],
  );
  await pub.stop();
});

test('an older view never replaces a newer one, and versions sent per event only grow across overlapping flushes', async (t) => {
  const f = fakeSink({ delayMs: 3 });
  const { clock, pub } = onFakeClock(f.on, { retryMs: 20, maxPerFlush: 7, settleTimeoutMs: 1000 });
  const events = Array.from({ length: 40 }, (_, i) => `e${i}`);
  const latest = new Map<string, number>();
  // Marks arrive in every tick while flushes (slow, and cut to 7 events each) are in flight;
  // some marks are stale (an older version arriving late).
  for (let round = 0; round < 30; round++) {
    for (const e of events) {
      if (Math.random() < 0.5) continue;
      const next = (latest.get(e) ?? 0) + 1 + Math.floor(Math.random() * 3);
      latest.set(e, next);
      pub.mark(view(e, next));
      if (next > 2 && Math.random() < 0.3) pub.mark(view(e, next - 2)); // late, older
    }
    await clock.advance(1);
  }
  await moving(clock, pub.flush());
  for (const [e, v] of latest) {
    t.is(f.stored.get(e)?.version, v, `${e} ends at its latest version`);
    const seen = f.received.get(e) ?? [];
    t.true(seen.every((x, i) => i === 0 || x > (seen[i - 1] as number)), `${e} sent in increasing order: ${seen.join(',')}`);
  }
  t.true(f.calls.every((c) => c.length <= 7));
  await pub.stop();
});

test('after a sink failure the views are sent again after retryMs without any new change, and a newer view wins over the failed one', async (t) => {
  const f = fakeSink();
  const { clock, pub } = onFakeClock(f.on, { retryMs: 100, maxPerFlush: 5000, settleTimeoutMs: 1000 });
  f.state.failing = true;
  pub.mark(view('a', 1));
  pub.mark(view('b', 1));
  await tick();
  await tick();
  t.is(f.calls.length, 1, 'first attempt made');
  t.is(f.stored.size, 0);
  pub.mark(view('b', 2)); // arrives while the retry waits
  await tick();
  t.is(f.calls.length, 1, 'no tight loop against a failing sink: new marks wait for the retry');
  f.state.failing = false;
  await clock.advance(99);
  t.is(f.calls.length, 1, 'the retry waits its delay');
  await clock.advance(1);
  t.is(f.stored.get('a')?.version, 1, 'repaired with no new change');
  t.is(f.stored.get('b')?.version, 2, 'the newer view, not the failed one');
  t.is(f.calls.length, 2);
  await pub.stop();
});

test('settled waits until the event’s latest view has been sent (read-your-writes on this pod)', async (t) => {
  const f = fakeSink({ delayMs: 10 });
  const { clock, pub } = onFakeClock(f.on, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000 });
  pub.mark(view('x', 1));
  await tick(); // flush of v1 on the wire
  pub.mark(view('x', 2)); // pending behind it
  await moving(clock, pub.settled('x'));
  t.is(f.stored.get('x')?.version, 2);
  await pub.settled('never-marked'); // resolves at once
  // A failing sink does not hold readers forever: a few failed rounds, not the whole bound.
  f.state.failing = true;
  pub.mark(view('x', 3));
  const started = clock.monotonic();
  await moving(clock, pub.settled('x'));
  t.true(clock.monotonic() - started < 1000);
  f.state.failing = false;
  await moving(clock, pub.stop());
  t.is(f.stored.get('x')?.version, 3, 'stop flushes what is pending');
});

test('a sink that hangs holds a reader no longer than settleTimeoutMs, and shutdown no longer than its bound', async (t) => {
  const hanging: AvailabilitySink = { publish: () => new Promise<void>(() => undefined) };
  const { clock, pub } = onFakeClock(() => hanging, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 60 });
  pub.mark(view('h', 1));
  await tick(); // the flush is now on the wire, forever
  let settled = false;
  const reading = pub.settled('h').then(() => (settled = true));
  await clock.advance(59);
  t.false(settled, 'the reader waits for the flush...');
  await clock.advance(1);
  t.true(settled, '...until settleTimeoutMs');
  await reading;
  const stopping = clock.monotonic();
  await moving(clock, pub.stop()); // gives up on the hanging flush instead of blocking shutdown
  t.true(clock.monotonic() - stopping < 5000);
});

test('with minIntervalMs, flushes start at least that far apart and the last view still goes out', async (t) => {
  const { f, at, clock, pub } = flushingEvery30ms();
  const start = clock.monotonic();
  // One change every 2 ms for 118 ms: without the interval that is one flush per change.
  for (let v = 1; v <= 60; v++) {
    if (v > 1) await clock.advance(2);
    pub.mark(view('hot', v));
  }
  t.deepEqual(
    at.map((x) => x - start),
    [0, 30, 60, 90],
    'the first change goes at once, then one flush per interval',
  );
  // No reader waits: the last view (marked at 118 ms) goes out at the end of its interval.
  await clock.advance(1);
  t.not(f.stored.get('hot')?.version, 60);
  await clock.advance(1);
  t.is(f.stored.get('hot')?.version, 60);
  t.deepEqual(
    at.map((x) => x - start),
    [0, 30, 60, 90, 120],
  );
  await pub.stop();
});

test('without a reader waiting, a change within the interval is not sent before the interval has passed', async (t) => {
  const { f, at, clock, pub } = flushingEvery30ms();
  pub.mark(view('x', 1));
  await tick();
  t.is(f.stored.get('x')?.version, 1, 'the first change goes at once');
  await clock.advance(10);
  pub.mark(view('x', 2));
  await clock.advance(19);
  t.is(at.length, 1, 'not sent 29 ms after the last flush');
  t.is(f.stored.get('x')?.version, 1);
  await clock.advance(1);
  t.is(at.length, 2);
  t.is((at[1] as number) - (at[0] as number), 30, 'sent as the interval ends');
  t.is(f.stored.get('x')?.version, 2);
  await pub.stop();
});

test('a reader waiting in settled does not wait for the interval: the pending view goes at once', async (t) => {
  const { f, at, clock, pub } = flushingEvery30ms();
  pub.mark(view('x', 1));
  await pub.settled('x'); // the first flush starts at once
  t.is(at.length, 1);
  await clock.advance(10);
  pub.mark(view('x', 2)); // within the interval: waits for it
  await tick();
  t.is(at.length, 1);
  await pub.settled('x'); // the clock does not move: only the reader makes it go
  t.is(f.stored.get('x')?.version, 2);
  t.deepEqual(
    at.map((x) => x - (at[0] as number)),
    [0, 10],
  );
  t.is(clock.pending(), 0, 'no flush is left waiting for the interval');
  // The hurried flush starts a new interval: the next change without a reader waits for it.
  pub.mark(view('x', 3));
  await clock.advance(29);
  t.is(at.length, 2);
  await clock.advance(1);
  t.is(f.stored.get('x')?.version, 3);
  t.deepEqual(
    at.map((x) => x - (at[0] as number)),
    [0, 10, 40],
  );
  await pub.stop();
});

test('each flush is observed: views sent with their lag from the first unsent mark, and failed flushes', async (t) => {
  const f = fakeSink({ delayMs: 30 });
  const flushes: Array<{ outcome: string; views: number; lag: readonly number[] }> = [];
  const { clock, pub } = onFakeClock(f.on, {
    retryMs: 20,
    maxPerFlush: 5000,
    settleTimeoutMs: 1000,
    onFlush: (outcome, views, lag) => flushes.push({ outcome, views, lag }),
  });
  pub.mark(view('a', 1));
  pub.mark(view('b', 1));
  pub.mark(view('a', 2));
  await moving(clock, pub.flush());
  t.is(flushes.length, 1);
  t.like(flushes[0], { outcome: 'ok', views: 2 });
  t.deepEqual(flushes[0]?.lag, [0.03, 0.03], "the lag covers the sink's 30 ms");

  // A failed flush is observed; the retry's lag runs from the first mark, across the failure.
  f.state.failing = true;
  pub.mark(view('a', 3));
  await moving(clock, pub.flush());
  t.like(flushes[1], { outcome: 'failed', views: 1, lag: [] });
  f.state.failing = false;
  await advanceUntil(clock, () => flushes.length >= 3);
  t.like(flushes[2], { outcome: 'ok', views: 1 });
  t.deepEqual(flushes[2]?.lag, [0.08], 'two sink calls of 30 ms and the 20 ms retry wait');
  await pub.stop();
});
