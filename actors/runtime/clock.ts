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

/** Resolves after `ms` on `clock` (or at once when `ms` ≤ 0). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
