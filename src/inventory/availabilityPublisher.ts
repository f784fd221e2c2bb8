/**
 * Coalesced live-availability projection: `mark()` records the latest view of an event
 * (cheap, no I/O), and one flush per pod tick sends every marked event's view to the sink
 * in ONE call (one Redis round trip), whether one hot event changed 50 times in that tick
 * or 1,000 warm events changed once each. At most one flush is in flight; views marked
 * meanwhile go in the next one, right after it. Flushes start at least `minIntervalMs`
 * apart: a loopback write to Redis costs this process far more CPU than the view is worth
 * (it runs Redis's side of the socket and wakes it, and the Redis reply wakes this process
 * again), so an event committing every few milliseconds, even a lone caller's, is
 * projected once per interval, not after every commit. A reader waiting in `settled` (or
 * a `flush`) does not wait for the interval: the pending views go at once.
 *
 * Versions never go backwards: a view replaces a pending one only if its version is not
 * older, flushes are sent in order on one connection, and the sink itself refuses older
 * versions (its Lua script). A failed flush is logged and its views are queued again (unless
 * a newer view came meanwhile) for a retry after `retryMs`, so the projection repairs itself
 * after a Redis outage even if the event never changes again.
 *
 * `onFlush` observes every flush (metrics): its outcome and, per view, the time from the
 * first mark of that event still unsent to the end of the flush that sent it (how long a
 * commit took to reach Redis).
 *
 * `settled(eventId)` resolves once the event's latest marked view has been sent (or its
 * flush failed, or `settleTimeoutMs` passed): readers on this pod then see their own writes.
 *
 * Every wait (the interval, the retry, the settle and stop bounds) and every lag is measured
 * on `options.clock` (the system clock unless given), so tests move them by hand.
 */
import type { Logger } from 'pino';
import { systemClock, within, type Clock } from '../../actors/runtime/clock.js';
import type { AvailabilityJson } from './availabilityView.js';

export interface PublishItem {
  readonly eventId: string;
  readonly version: number;
  readonly json: string;
}

/** Where views go (Redis in production, a fake in tests). Resolves when all are applied. */
export interface AvailabilitySink {
  publish(items: readonly PublishItem[]): Promise<void>;
}

export interface AvailabilityPublisher {
  /** Record `view` as the event's latest; it is sent with the next flush. */
  mark(view: AvailabilityJson): void;
  /** Resolves once what is marked for `eventId` now has been sent (or failed, or timed out). */
  settled(eventId: string): Promise<void>;
  /** Send everything marked so far and wait for it (tests, shutdown). Never rejects. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface PublisherOptions {
  /** Wait before retrying views whose flush failed. */
  readonly retryMs: number;
  /** Views per sink call at most (bounds one Lua call's run time). */
  readonly maxPerFlush: number;
  /** `settled` gives up after this long (a reader then reads what is there). */
  readonly settleTimeoutMs: number;
  /** Least time between the starts of two flushes (0: right after the previous one). */
  readonly minIntervalMs?: number;
  /** Observe each flush: `ok` with each view's lag from its mark (seconds), or `failed` with the views' count. */
  readonly onFlush?: (outcome: 'ok' | 'failed', views: number, lagSeconds: readonly number[]) => void;
  /** Time of the waits and lags above (default: the system clock). */
  readonly clock?: Clock;
}

/** `stop` waits at most this long for the last flush. */
const STOP_FLUSH_TIMEOUT_MS = 2000;

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function createAvailabilityPublisher(sink: AvailabilitySink, options: PublisherOptions, log: Logger): AvailabilityPublisher {
  const clock = options.clock ?? systemClock;
  /** Latest unsent view per event, in mark order. */
  const pending = new Map<string, AvailabilityJson>();
  /** When each pending event was first marked since it was last sent (`clock.monotonic()`). */
  const markedAt = new Map<string, number>();
  /** The flush on the wire: its events and its completion. */
  let inFlight: { readonly ids: ReadonlySet<string>; readonly done: Promise<void> } | undefined;
  /** Completion of the next flush to start (created when someone waits for it). */
  let nextFlush: Deferred | undefined;
  let cancelScheduled: (() => void) | undefined;
  let stopped = false;
  let failures = 0;
  let lastStart = -Infinity;
  /** A reader waits in `settled` for a pending view: the next flush starts without waiting for the interval. */
  let hurry = false;
  const minInterval = options.minIntervalMs ?? 0;

  function schedule(requestedMs: number): void {
    if (cancelScheduled || inFlight || stopped || pending.size === 0) return;
    // A reader waiting in `settled` does not wait for the interval (a retry still waits its delay).
    const interval = hurry ? 0 : minInterval;
    const delayMs = Math.max(requestedMs, Math.ceil(lastStart + interval - clock.monotonic()));
    const run = () => {
      cancelScheduled = undefined;
      send().catch((err: unknown) => log.error({ err }, 'availability flush crashed'));
    };
    if (delayMs > 0) {
      const timer = clock.setTimeout(run, delayMs);
      cancelScheduled = () => clock.clearTimeout(timer);
    } else {
      // Not a wait but the next turn of the event loop: marks made by the I/O callbacks of
      // this turn still join the flush. The clock port only has timers, and a 0 ms timer is
      // not this (Node runs it 1 ms later at the earliest; a hand-moved clock not until it
      // is moved, which would hold every reader's flush).
      const immediate = setImmediate(run);
      cancelScheduled = () => clearImmediate(immediate);
    }
  }

  function cancel(): void {
    cancelScheduled?.();
    cancelScheduled = undefined;
  }

  /** Send up to maxPerFlush pending views; a failure puts them back for a retry. */
  async function send(): Promise<void> {
    if (inFlight || pending.size === 0) return;
    const views: AvailabilityJson[] = [];
    const marks: number[] = [];
    for (const [id, view] of pending) {
      views.push(view);
      marks.push(markedAt.get(id) ?? clock.monotonic());
      pending.delete(id);
      markedAt.delete(id);
      if (views.length >= options.maxPerFlush) break;
    }
    const done = nextFlush ?? deferred();
    nextFlush = undefined;
    hurry = false;
    lastStart = clock.monotonic();
    inFlight = { ids: new Set(views.map((v) => v.event_id)), done: done.promise };
    let retryMs = 0;
    try {
      await sink.publish(views.map((v) => ({ eventId: v.event_id, version: v.version, json: JSON.stringify(v) })));
      if (failures > 0) log.info({ failures }, 'availability projection to Redis recovered');
      failures = 0;
      if (options.onFlush) {
        const now = clock.monotonic();
        options.onFlush('ok', views.length, marks.map((at) => (now - at) / 1000));
      }
    } catch (err) {
      failures += 1;
      // One warning per outage, not one per tick.
      if (failures === 1) log.warn({ err, events: views.length }, 'availability projection to Redis failed; will retry');
      options.onFlush?.('failed', views.length, []);
      views.forEach((v, i) => {
        const newer = pending.get(v.event_id);
        if (!newer || newer.version < v.version) pending.set(v.event_id, v);
        // The lag runs from the first mark never sent.
        markedAt.set(v.event_id, Math.min(markedAt.get(v.event_id) ?? Infinity, marks[i] ?? Infinity));
      });
      retryMs = options.retryMs;
    } finally {
      inFlight = undefined;
      done.resolve();
    }
    schedule(failures > 0 ? retryMs : 0);
  }

  return {
    mark(view) {
      if (stopped) return;
      const current = pending.get(view.event_id);
      if (current && current.version > view.version) return;
      pending.set(view.event_id, view);
      if (!markedAt.has(view.event_id)) markedAt.set(view.event_id, clock.monotonic());
      // While a retry is waiting, new marks wait for it too (no tight loop against a dead Redis).
      schedule(0);
    },
    async settled(eventId) {
      if (!pending.has(eventId) && !inFlight?.ids.has(eventId)) return;
      if (pending.has(eventId) && !hurry) {
        // Read-your-writes: send the view now, not at the end of the coalescing interval.
        hurry = true;
        if (failures === 0) {
          cancel();
          schedule(0);
        }
      }
      // The flush in flight, then the next one, normally carries it; bounded in rounds and
      // time so a failing, hanging or stopped sink never holds a reader for long.
      const wait = async () => {
        for (let round = 0; round < 3 && !stopped && (pending.has(eventId) || inFlight?.ids.has(eventId)); round++) {
          await (inFlight ? inFlight.done : (nextFlush ??= deferred()).promise);
        }
      };
      await within(clock, options.settleTimeoutMs, wait());
    },
    flush,
    async stop() {
      // Shutdown must not hang on a Redis that does not answer: what is left is lost, and
      // the next owner's first change (or activation) projects the event again.
      await within(clock, STOP_FLUSH_TIMEOUT_MS, flush());
      stopped = true;
      cancel();
      nextFlush?.resolve();
    },
  };

  async function flush(): Promise<void> {
    // Each round sends one batch; a failing sink ends the loop (its views stay pending).
    for (;;) {
      if (inFlight) await inFlight.done;
      if (pending.size === 0) return;
      const before = failures;
      cancel();
      await send();
      if (failures > before) return;
    }
  }
}
