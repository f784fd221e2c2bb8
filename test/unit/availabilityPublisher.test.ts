/**
 * The coalesced availability projection against a fake sink: one sink call per tick for a
 * burst over many events carrying each event's latest view, versions that never go
 * backwards across overlapping flushes, retry after a sink failure without a new change,
 * and read-your-writes through `settled`.
 */
import test from 'ava';
import { pino } from 'pino';
import { createAvailabilityPublisher, type AvailabilitySink, type PublishItem } from '../../src/inventory/availabilityPublisher.js';
import type { AvailabilityJson } from '../../src/inventory/availabilityView.js';
import { availabilityView } from '../helpers/availabilityViews.js';

const log = pino({ level: 'silent' });
const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const view = availabilityView;

/** A sink that records calls, can be slowed down, and fails while `failing` is set. */
function fakeSink(opts: { delayMs?: number } = {}) {
  const calls: PublishItem[][] = [];
  /** Latest version applied per event (what Redis would hold), with the monotonic guard. */
  const stored = new Map<string, { version: number; json: string }>();
  const received = new Map<string, number[]>();
  const state = { failing: false };
  const sink: AvailabilitySink = {
    async publish(items) {
      calls.push([...items]);
      if (opts.delayMs) await sleep(opts.delayMs);
      if (state.failing) throw new Error('redis down');
      for (const i of items) {
        (received.get(i.eventId) ?? received.set(i.eventId, []).get(i.eventId))?.push(i.version);
        const cur = stored.get(i.eventId);
        if (!cur || cur.version <= i.version) stored.set(i.eventId, { version: i.version, json: i.json });
      }
    },
  };
  return { sink, calls, stored, received, state };
}

test('a burst over 1,000 events in one tick is one sink call carrying every event once, at its latest version', async (t) => {
  const f = fakeSink();
  const pub = createAvailabilityPublisher(f.sink, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000 }, log);
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

/** `sink`, recording when each flush starts. */
function timedSink(sink: AvailabilitySink) {
  const at: number[] = [];
  const timed: AvailabilitySink = {
    async publish(items) {
      at.push(performance.now());
      await sink.publish(items);
    },
  };
  return { timed, at };
}

test('a hot event marked 50 times in a tick is sent once, with its last view', async (t) => {
  const f = fakeSink();
  const pub = createAvailabilityPublisher(f.sink, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000 }, log);
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
  const pub = createAvailabilityPublisher(f.sink, { retryMs: 20, maxPerFlush: 7, settleTimeoutMs: 1000 }, log);
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
    await sleep(1);
  }
  await pub.flush();
  for (const [e, v] of latest) {
    t.is(f.stored.get(e)?.version, v, `${e} ends at its latest version`);
    const seen = f.received.get(e) ?? [];
    t.true(seen.every((x, i) => i === 0 || x > (seen[i - 1] as number)), `${e} sent in increasing order: ${seen.join(',')}`);
  }
  t.true(f.calls.every((c) => c.length <= 7));
  await pub.stop();
});

test('after a sink failure the views are sent again without any new change, and a newer view wins over the failed one', async (t) => {
  const f = fakeSink();
  const pub = createAvailabilityPublisher(f.sink, { retryMs: 100, maxPerFlush: 5000, settleTimeoutMs: 1000 }, log);
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
  for (let i = 0; i < 100 && f.stored.size < 2; i++) await sleep(20);
  t.is(f.stored.get('a')?.version, 1, 'repaired with no new change');
  t.is(f.stored.get('b')?.version, 2, 'the newer view, not the failed one');
  t.is(f.calls.length, 2);
  await pub.stop();
});

test('settled waits until the event’s latest view has been sent (read-your-writes on this pod)', async (t) => {
  const f = fakeSink({ delayMs: 10 });
  const pub = createAvailabilityPublisher(f.sink, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000 }, log);
  pub.mark(view('x', 1));
  await tick(); // flush of v1 on the wire
  pub.mark(view('x', 2)); // pending behind it
  await pub.settled('x');
  t.is(f.stored.get('x')?.version, 2);
  await pub.settled('never-marked'); // resolves at once
  // A failing sink does not hold readers forever. (The retry timer is unref'd, as it must
  // not keep a pod alive at shutdown: keep this process alive meanwhile.)
  const keepAlive = setInterval(() => undefined, 20);
  f.state.failing = true;
  pub.mark(view('x', 3));
  const started = Date.now();
  await pub.settled('x');
  clearInterval(keepAlive);
  t.true(Date.now() - started < 1000);
  f.state.failing = false;
  await pub.stop();
  t.is(f.stored.get('x')?.version, 3, 'stop flushes what is pending');
});

test('a sink that hangs holds a reader no longer than settleTimeoutMs, and shutdown no longer than its bound', async (t) => {
  const hanging: AvailabilitySink = { publish: () => new Promise<void>(() => undefined) };
  const pub = createAvailabilityPublisher(hanging, { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 60 }, log);
  const keepAlive = setInterval(() => undefined, 20); // the timeout timer is unref'd
  try {
    pub.mark(view('h', 1));
    await tick(); // the flush is now on the wire, forever
    const started = performance.now();
    await pub.settled('h');
    const waited = performance.now() - started;
    t.true(waited >= 50 && waited < 1000, `waited ${waited.toFixed(0)} ms`);
    const stopping = performance.now();
    await pub.stop(); // gives up on the hanging flush instead of blocking shutdown
    t.true(performance.now() - stopping < 5000);
  } finally {
    clearInterval(keepAlive);
  }
});

test('with minIntervalMs, flushes start at least that far apart and the last view still goes out', async (t) => {
  const f = fakeSink();
  const { timed, at } = timedSink(f.sink);
  const pub = createAvailabilityPublisher(timed, { retryMs: 20, maxPerFlush: 100, settleTimeoutMs: 1000, minIntervalMs: 30 }, log);
  // One change every ~2 ms for ~150 ms: without the interval that is one flush per change.
  for (let v = 1; v <= 60; v++) {
    pub.mark(view('hot', v));
    await sleep(2);
  }
  // No reader waits: the last view goes out at the end of its interval.
  while (f.stored.get('hot')?.version !== 60) await sleep(5);
  t.true(at.length >= 2 && at.length <= 12, `${at.length} flushes`);
  for (let i = 1; i < at.length; i++) {
    const gap = (at[i] as number) - (at[i - 1] as number);
    t.true(gap >= 28, `gap ${gap} ms`); // timers have millisecond granularity
  }
  t.is(f.stored.get('hot')?.version, 60);
  await pub.stop();
});

test('a reader waiting in settled does not wait for the interval: the pending view goes at once', async (t) => {
  const f = fakeSink();
  const { timed, at } = timedSink(f.sink);
  // An interval no test would wait for: only the reader can make the second flush start.
  const pub = createAvailabilityPublisher(timed, { retryMs: 20, maxPerFlush: 100, settleTimeoutMs: 60_000, minIntervalMs: 60_000 }, log);
  pub.mark(view('x', 1));
  await pub.settled('x'); // the first flush starts at once
  pub.mark(view('x', 2)); // within the interval: waits for it
  await tick();
  t.is(at.length, 1);
  await pub.settled('x');
  t.is(f.stored.get('x')?.version, 2);
  t.is(at.length, 2);
  await pub.stop();
});

test('each flush is observed: views sent with their lag from the first unsent mark, and failed flushes', async (t) => {
  const f = fakeSink({ delayMs: 30 });
  const flushes: Array<{ outcome: string; views: number; lag: readonly number[] }> = [];
  const pub = createAvailabilityPublisher(
    f.sink,
    { retryMs: 20, maxPerFlush: 5000, settleTimeoutMs: 1000, onFlush: (outcome, views, lag) => flushes.push({ outcome, views, lag }) },
    log,
  );
  pub.mark(view('a', 1));
  pub.mark(view('b', 1));
  pub.mark(view('a', 2));
  await pub.flush();
  t.is(flushes.length, 1);
  t.like(flushes[0], { outcome: 'ok', views: 2 });
  t.is(flushes[0]?.lag.length, 2);
  for (const lag of flushes[0]?.lag ?? []) t.true(lag >= 0.025, `lag ${lag} s covers the sink's 30 ms`);

  // A failed flush is observed; the retry's lag runs from the first mark, across the failure.
  f.state.failing = true;
  pub.mark(view('a', 3));
  await pub.flush();
  t.like(flushes[1], { outcome: 'failed', views: 1, lag: [] });
  f.state.failing = false;
  for (let i = 0; i < 500 && flushes.length < 3; i++) await sleep(5);
  t.like(flushes[2], { outcome: 'ok', views: 1 });
  t.true((flushes[2]?.lag[0] ?? 0) >= 0.07, 'two sink calls of 30 ms and the 20 ms retry wait');
  await pub.stop();
});
