/**
 * Time as a port: what "now" is and how to wait. The service runs on `systemClock`; tests
 * hand a fake clock (test/helpers/fakeClock.ts) to the shard manager, the router, the group
 * commit and the inventory actors and move time themselves, so nothing in a test has to
 * sleep on the wall clock.
 */

/** An armed timer, as `setTimeout` returned it (opaque to callers). */
export type TimerHandle = object;

export interface Clock {
  /** Wall time, epoch ms: what holds expire by and callers' deadlines are given in. */
  now(): number;
  /** Monotonic ms (arbitrary origin): for measuring intervals and lease deadlines. */
  monotonic(): number;
  /** Run `fn` once after `ms`. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Waiting only: what the inventory actors need besides wall time. */
export type Timers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
};

/** What `within` answers when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `work`'s value, or TIMED_OUT once `ms` have passed on `clock` without it settling (the
 * work goes on; a rejection after that is ignored). A rejection before that rejects.
 */
export async function within<T>(clock: Timers, ms: number, work: Promise<T>): Promise<T | typeof TIMED_OUT> {
  let timer: TimerHandle | undefined;
  try {
    return await Promise.race([work, new Promise<typeof TIMED_OUT>((resolve) => (timer = clock.setTimeout(() => resolve(TIMED_OUT), ms)))]);
  } finally {
    clock.clearTimeout(timer);
  }
}

/** Resolves after `ms` on `clock` (or at once when `ms` ≤ 0). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
