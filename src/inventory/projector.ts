/**
 * Projections after an actor commit, both coalesced so their cost is per pod tick, not
 * per actor turn:
 *  - live availability into Redis (availabilityPublisher.ts + redisAvailabilitySink.ts):
 *    the view is built at commit time (the actor's state moves on), and every event changed
 *    in a tick goes to Redis in one script call that never lets a version go backwards and
 *    publishes each change to watchers;
 *  - `ticket_types` counters and lock status in Postgres (counterProjection.ts): the latest
 *    levels per event, written for all changed events every `flushIntervalMs` in one
 *    statement (reporting may lag that much), with a NOTIFY `inventory_changed` per event.
 * `read` waits for this pod's own pending view of the event first (read-your-writes), and
 * `onView` listeners get every view as it is made, before the turn's replies go out (the
 * REST read models on this pod take it in at once).
 */
import type { Redis } from 'ioredis';
import { failIfDown } from '../cache/redis.js';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { CatalogInfo, InventoryState } from '../../actors/inventory/model.js';
import type { PricingPort } from '../../actors/inventory/pricingPort.js';
import type { Clock } from '../../actors/runtime/clock.js';
import { availabilityOf, type AvailabilityJson } from './availabilityView.js';
import { createAvailabilityPublisher, type PublisherOptions } from './availabilityPublisher.js';
import { createCounterProjection, INVENTORY_CHANGED_CHANNEL } from './counterProjection.js';
import { availabilityKey, createRedisAvailabilitySink } from './redisAvailabilitySink.js';

export { INVENTORY_CHANGED_CHANNEL };

/**
 * Least time between two availability flushes to Redis (how stale other pods' live view may
 * be, beyond the flush itself; readers on this pod get each view at once). 20 ms: a lone
 * caller's reservations (a few ms each) share one flush instead of paying one each.
 */
const AVAILABILITY_MIN_INTERVAL_MS = 20;
/** Wait before re-sending availability views after a Redis failure. */
const AVAILABILITY_RETRY_MS = 500;
/** Events per availability script call at most. */
const AVAILABILITY_MAX_PER_FLUSH = 1000;
/** A reader waits at most this long for this pod's own pending view of its event. */
const AVAILABILITY_SETTLE_TIMEOUT_MS = 250;

export type ViewListener = (view: AvailabilityJson) => void;

export interface Projector {
  /** Refresh the live view; after a commit (`committed`) also queue the Postgres counters. */
  project(eventId: string, state: InventoryState, catalog: CatalogInfo, committed: boolean): void;
  /** Call `listener` with every view this pod projects from now on; returns the unsubscribe. */
  onView(listener: ViewListener): () => void;
  /** Latest projected availability, or undefined when none is in Redis. */
  read(eventId: string): Promise<AvailabilityJson | undefined>;
  /** Send pending availability views and write pending Postgres counters now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createProjector(
  redis: Redis,
  pool: Pool,
  options: {
    keyPrefix: string;
    ttlSeconds: number;
    flushIntervalMs: number;
    /** Time of the views (prices) and of the availability flushes' interval, retry and bounds. */
    clock: Clock;
    pricing?: PricingPort;
    /** Observe each availability flush to Redis (metrics). */
    onAvailabilityFlush?: PublisherOptions['onFlush'];
  },
  log: Logger,
): Projector {
  const availability = createAvailabilityPublisher(
    createRedisAvailabilitySink(redis, { keyPrefix: options.keyPrefix, ttlSeconds: options.ttlSeconds }, log),
    {
      retryMs: AVAILABILITY_RETRY_MS,
      maxPerFlush: AVAILABILITY_MAX_PER_FLUSH,
      settleTimeoutMs: AVAILABILITY_SETTLE_TIMEOUT_MS,
      minIntervalMs: AVAILABILITY_MIN_INTERVAL_MS,
      onFlush: options.onAvailabilityFlush,
      clock: options.clock,
    },
    log,
  );
  const counters = createCounterProjection(pool, { intervalMs: options.flushIntervalMs }, log);
  const listeners = new Set<ViewListener>();
  return {
    project(eventId, state, catalog, committed) {
      const view = availabilityOf(state, catalog, options.clock.now(), options.pricing);
      availability.mark(view);
      if (committed) counters.mark(eventId, state.levels, state.seq);
      for (const listener of listeners) {
        try {
          listener(view);
        } catch (err) {
          log.warn({ err, eventId }, 'availability view listener failed');
        }
      }
    },
    onView(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async read(eventId) {
      failIfDown(redis, 'availability projection'); // not worth waiting for a flush that cannot land
      await availability.settled(eventId);
      const json = await redis.hget(availabilityKey(eventId), 'json');
      return json === null ? undefined : (JSON.parse(json) as AvailabilityJson);
    },
    async flush() {
      await availability.flush();
      await counters.flush();
    },
    async stop() {
      for (const step of [() => availability.stop(), () => counters.stop()]) {
        try {
          await step();
        } catch (err) {
          log.warn({ err }, 'projection shutdown step failed');
        }
      }
    },
  };
}
