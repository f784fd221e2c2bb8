/**
 * A clock tests move by hand (the Clock port of actors/runtime/clock.ts): `now()` and
 * `monotonic()` stand still until `advance(ms)`, which fires every timer due on the way in
 * time order, letting the promises each one starts settle before the next fires.
 */
import type { Clock, TimerHandle } from '../../actors/runtime/clock.js';

interface Armed {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Let pending promise reactions and I/O callbacks of the current step run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<TimerHandle, Armed>();

  constructor(startWallMs = Date.UTC(2030, 0, 1)) {
    this.t = startWallMs;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.delete(handle);
  }

  /** Timers armed and not fired yet. */
  pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in order (each followed by a settle). */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle(); // timers the last step (or the caller) is about to arm
      let next: [TimerHandle, Armed] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = target;
    await settle();
  }
}
