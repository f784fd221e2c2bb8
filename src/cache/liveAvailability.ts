/**
 * The latest live availability per event, held in process so a cached read does not pay
 * a Redis round trip for it. Each event read here gets an LRU entry (CACHE_MAX_SIZE
 * entries) and a subscription to its availability feed (`availability:<eventId>`, which
 * the inventory projection publishes after every change, on any pod): a feed message
 * replaces the snapshot at once, so readers normally see a change within the pub/sub
 * delivery time. An entry is trusted for at most `ttlMs` after it was last confirmed
 * (read from Redis or delivered by the feed); that TTL bounds staleness when feed messages
 * are lost (subscriber reconnecting, a subscription not yet confirmed). A read of an entry
 * past half its TTL starts one background refresh from the loader (refresh-ahead), so a
 * busy event is re-confirmed before it goes stale and its readers never queue behind the
 * loader; a stale entry is refreshed once for all concurrent readers.
 * `invalidate` forces the next read to the loader (this pod's own admin writes).
 * `offer` takes a view straight from this pod's own inventory projection (the pod that
 * owns the event), so a write acknowledged here is in the next read here, before its
 * pub/sub message comes back.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { AvailabilityJson } from '../inventory/availabilityView.js';
import type { AvailabilityFeed } from './availabilityFeed.js';

/** How long a snapshot is served without news from the feed or Redis. */
export const LIVE_AVAILABILITY_TTL_MS = 250;

/** One availability snapshot with its response body, encoded once. */
export class AvailabilitySnapshot {
  private encoded: Buffer | undefined;
  constructor(
    readonly value: AvailabilityJson,
    /** JSON.stringify(value), exactly as served. */
    readonly json: string,
  ) {}

  /** The UTF-8 bytes of `json`. */
  get body(): Buffer {
    return (this.encoded ??= Buffer.from(this.json));
  }
}

export interface LiveAvailability {
  /** A snapshot confirmed within the TTL, or undefined; never waits (it may start a background refresh). */
  peek(eventId: string): AvailabilitySnapshot | undefined;
  /** The live snapshot: `peek`, else loaded (errors of the loader pass through). */
  get(eventId: string): Promise<AvailabilitySnapshot>;
  /** The next read of this event goes to the loader. */
  invalidate(eventId: string): void;
  /**
   * A view just committed on this pod: replaces the held copy unless that one is newer.
   * Events nobody reads here are not taken in (no entry, no subscription).
   */
  offer(value: AvailabilityJson): void;
}

export interface LiveAvailabilityOptions {
  readonly feed: AvailabilityFeed;
  /** Reads the current availability (the Redis projection, or the actor). */
  readonly load: (eventId: string) => Promise<AvailabilityJson>;
  /** Events held at once; 0 turns the in-process copy off (every read loads). */
  readonly maxEntries: number;
  readonly ttlMs?: number;
  readonly log: Logger;
  readonly now?: () => number;
}

interface Entry {
  snapshot: AvailabilitySnapshot;
  /** When `snapshot` was last known to be current (ms, `now()`). */
  confirmedAt: number;
  /** Bumped by feed messages and invalidations: a load begun before must not overwrite. */
  generation: number;
  unsubscribe: (() => Promise<void>) | undefined;
  evicted: boolean;
}

function parseSnapshot(json: string, eventId: string): AvailabilitySnapshot | undefined {
  try {
    const value = JSON.parse(json) as AvailabilityJson;
    return value && value.event_id === eventId && Array.isArray(value.ticket_types) ? new AvailabilitySnapshot(value, json) : undefined;
  } catch {
    return undefined;
  }
}

export function createLiveAvailability(options: LiveAvailabilityOptions): LiveAvailability {
  const { feed, load, log } = options;
  const ttlMs = options.ttlMs ?? LIVE_AVAILABILITY_TTL_MS;
  const now = options.now ?? Date.now;
  const fromValue = (value: AvailabilityJson) => new AvailabilitySnapshot(value, JSON.stringify(value));
  if (options.maxEntries <= 0 || ttlMs <= 0) {
    return {
      peek: () => undefined,
      get: async (eventId) => fromValue(await load(eventId)),
      invalidate: () => undefined,
      offer: () => undefined,
    };
  }

  const entries = new LRUCache<string, Entry>({
    max: options.maxEntries,
    dispose: (entry) => {
      entry.evicted = true;
      entry.unsubscribe?.().catch(() => undefined);
    },
  });
  /** Loads in flight, one per event, shared by concurrent readers. */
  const loading = new Map<string, Promise<AvailabilitySnapshot>>();
  /**
   * Views offered while an event's first load was in flight (no entry to put them in yet):
   * that load may have read Redis before the view was committed, and its pub/sub message
   * went out before the new entry subscribed, so the load takes the newer of the two.
   */
  const offeredWhileLoading = new Map<string, AvailabilityJson>();

  /**
   * News for a held entry (a feed message, this pod's own projection): loads begun before
   * must not overwrite it. Loads read Redis on another connection than the feed, and the
   * feed lags this pod's projection: late news can be older than what is held. Never go
   * back (an equal version may carry a new price).
   */
  function news(eventId: string, entry: Entry, snapshot: AvailabilitySnapshot): void {
    entry.generation++;
    loading.delete(eventId);
    // The same bytes again (this pod's own view coming back over pub/sub) keep the held
    // snapshot object, and so the response bodies already built from it.
    if (snapshot.value.version >= entry.snapshot.value.version && snapshot.json !== entry.snapshot.json) entry.snapshot = snapshot;
    entry.confirmedAt = now();
  }

  function subscribe(eventId: string, entry: Entry): void {
    const onMessage = (json: string) => {
      const current = entries.peek(eventId);
      if (current !== entry) return;
      const snapshot = parseSnapshot(json, eventId);
      if (!snapshot) {
        entry.generation++;
        loading.delete(eventId);
        entry.confirmedAt = Number.NEGATIVE_INFINITY; // unreadable news: reload
        return;
      }
      news(eventId, entry, snapshot);
    };
    feed.subscribe(eventId, onMessage).then(
      (unsubscribe) => {
        if (entry.evicted) unsubscribe().catch(() => undefined);
        else entry.unsubscribe = unsubscribe;
      },
      (err: unknown) => log.debug({ err, eventId }, 'availability feed subscription failed'),
    );
  }

  function startLoad(eventId: string): Promise<AvailabilitySnapshot> {
    const before = entries.peek(eventId);
    const generation = before?.generation;
    const startedAt = now();
    const promise = load(eventId)
      .then((loaded) => {
        const offered = offeredWhileLoading.get(eventId);
        const value = offered && offered.version >= loaded.version ? offered : loaded;
        const snapshot = fromValue(value);
        const entry = entries.get(eventId);
        if (!entry) {
          const created: Entry = { snapshot, confirmedAt: startedAt, generation: 0, unsubscribe: undefined, evicted: false };
          entries.set(eventId, created);
          subscribe(eventId, created);
          return snapshot;
        }
        // Newer news (a feed message, an invalidation) arrived while loading: the entry keeps
        // it; this load's readers, who asked before that news, get what was loaded.
        if (entry !== before || entry.generation !== generation) return snapshot;
        entry.snapshot = snapshot;
        entry.confirmedAt = startedAt;
        return snapshot;
      })
      .finally(() => {
        if (loading.get(eventId) === promise) loading.delete(eventId);
        if (!loading.has(eventId)) offeredWhileLoading.delete(eventId);
      });
    loading.set(eventId, promise);
    return promise;
  }

  function peek(eventId: string): AvailabilitySnapshot | undefined {
    const entry = entries.get(eventId);
    if (entry === undefined) return undefined;
    const age = now() - entry.confirmedAt;
    if (age >= ttlMs) return undefined;
    if (age >= ttlMs / 2 && !loading.has(eventId)) {
      startLoad(eventId).catch((err: unknown) => log.debug({ err, eventId }, 'availability refresh failed'));
    }
    return entry.snapshot;
  }

  return {
    peek,
    get(eventId) {
      const fresh = peek(eventId);
      if (fresh) return Promise.resolve(fresh);
      return loading.get(eventId) ?? startLoad(eventId);
    },
    invalidate(eventId) {
      loading.delete(eventId);
      const entry = entries.peek(eventId);
      if (!entry) return;
      entry.generation++;
      entry.confirmedAt = Number.NEGATIVE_INFINITY;
    },
    offer(value) {
      const eventId = value.event_id;
      const entry = entries.peek(eventId);
      if (entry) {
        if (value.version >= entry.snapshot.value.version) news(eventId, entry, fromValue(value));
      } else if (loading.has(eventId)) {
        const earlier = offeredWhileLoading.get(eventId);
        if (!earlier || value.version >= earlier.version) offeredWhileLoading.set(eventId, value);
      }
    },
  };
}
