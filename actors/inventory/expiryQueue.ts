import type { Logger } from 'pino';
import type { TimerHandle, Timers } from '../runtime/clock.js';

/**
 * Open holds ordered by expiry: a binary min-heap with lazy deletion. Entries for holds
 * that were confirmed, released or re-timed are dropped when they reach the top, so each
 * turn costs O(log n) instead of a scan of every reservation the event ever had.
 */
interface Entry {
  readonly at: number;
  readonly id: string;
}

export class ExpiryQueue {
  private readonly heap: Entry[] = [];

  push(id: string, at: number): void {
    const h = this.heap;
    h.push({ id, at });
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as Entry).at <= (h[i] as Entry).at) break;
      [h[parent], h[i]] = [h[i] as Entry, h[parent] as Entry];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l] as Entry).at < (h[m] as Entry).at) m = l;
      if (r < h.length && (h[r] as Entry).at < (h[m] as Entry).at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i] as Entry, h[m] as Entry];
      i = m;
    }
  }

  /** Earliest expiry among entries `isOpen` still accepts (stale ones are dropped). */
  next(isOpen: (id: string, at: number) => boolean): number | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Entry;
      if (isOpen(top.id, top.at)) return top.at;
      this.pop();
    }
    return undefined;
  }

  /** Remove and return the ids of open holds due at or before `now`. */
  due(now: number, isOpen: (id: string, at: number) => boolean): string[] {
    const ids: string[] = [];
    for (let at = this.next(isOpen); at !== undefined && at <= now; at = this.next(isOpen)) {
      ids.push((this.heap[0] as Entry).id);
      this.pop();
    }
    return ids;
  }

  get size(): number {
    return this.heap.length;
  }
}

/** A failed expiry delivery (the shard moving) is retried this often, this many times. */
const EXPIRY_RETRY_MS = 250;
const EXPIRY_DELIVERY_ATTEMPTS = 40;

export interface HoldExpiryDeps {
  readonly clock: () => number;
  /** Where the timer runs (tests move time by hand). */
  readonly timers: Timers;
  readonly log: Logger;
  readonly eventId: string;
  /** Whether the hold is still open with this expiry (queue entries of others are stale). */
  readonly isOpen: (id: string, at: number) => boolean;
  /** The expiry of a hold that is still open, or undefined. */
  readonly openExpiry: (id: string) => number | undefined;
  /** Deliver `Expire` for these holds to the actor (through the router). */
  readonly deliver: (reservationIds: readonly string[]) => Promise<unknown>;
}

/**
 * Hold expiry for one actor: the queue of open holds and ONE timer, for the earliest.
 * Survives passivation (expiry is idempotent).
 */
export class HoldExpiries {
  private readonly queue = new ExpiryQueue();
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;

  constructor(private readonly deps: HoldExpiryDeps) {}

  track(id: string, at: number): void {
    this.queue.push(id, at);
  }

  /** The holds due at `now` (removed from the queue), or undefined when none is. */
  dueNow(now: number): string[] | undefined {
    if ((this.queue.next(this.deps.isOpen) ?? Infinity) > now) return undefined;
    return this.queue.due(now, this.deps.isOpen);
  }

  /** (Re)arm the timer for the earliest open hold. */
  arm(): void {
    const { clock, timers, isOpen } = this.deps;
    const next = this.queue.next(isOpen) ?? Infinity;
    if (next === this.armedAt) return;
    timers.clearTimeout(this.timer);
    this.armedAt = next;
    if (next === Infinity) return;
    this.timer = timers.setTimeout(() => {
      this.armedAt = Infinity;
      this.deliver(this.queue.due(clock(), isOpen), 1);
    }, Math.max(0, next - clock()) + 5);
  }

  /**
   * Delivery goes through the router: while the shard moves it can fail. Expiry is
   * idempotent, so try again shortly rather than leave a quiet event's seats held.
   */
  private deliver(reservationIds: string[], attempt: number): void {
    const { log, eventId } = this.deps;
    this.deps.deliver(reservationIds).catch((err: unknown) => {
      if (attempt >= EXPIRY_DELIVERY_ATTEMPTS) {
        // Back into the queue, so the next turn of this actor (which expires what is due
        // first) or its next timer finds them again.
        for (const id of reservationIds) {
          const at = this.deps.openExpiry(id);
          if (at !== undefined) this.queue.push(id, at);
        }
        log.warn({ err, eventId, attempts: attempt }, 'expiry delivery failed; the next turn expires what is due');
        return;
      }
      log.debug({ err, eventId, attempt }, 'expiry delivery failed; retrying');
      this.deps.timers.setTimeout(() => this.deliver(reservationIds, attempt + 1), EXPIRY_RETRY_MS);
    });
  }
}
