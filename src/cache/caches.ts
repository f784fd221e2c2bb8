/**
 * The service's read-model caches, one namespace each, with the seed's TTLs:
 * event detail (CACHE_TTL_EVENTS), the event's status alone for the visibility check of
 * reads (CACHE_TTL_EVENTS), search results (CACHE_TTL_SEARCH) and the price disclosure
 * (PRICE_UPDATE_INTERVAL). The detail holds the ticket types' counters, so every sale drops
 * it (src/cache/inventoryNotifications.ts); the status moves only with catalog writes, so a
 * read's visibility check stays a cache hit through a flash sale. (Availability is
 * not cached here: the inventory actor projects it into Redis after every commit, and
 * liveAvailability.ts keeps a short-lived in-process copy fed by the availability feed.)
 * Search keys carry a catalog version that every catalog write bumps, so a write makes all
 * cached searches unreachable at once.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import { createJsonCache, type CacheBus, type JsonCache } from './jsonCache.js';
import { createRedisCircuit, type RedisCircuit } from './redisCircuit.js';

const CATALOG_VERSION_KEY = 'catalog-version';

export interface Caches {
  readonly event: JsonCache<object>;
  /** `{ status }` per event: what the visibility check of a read needs, dropped by catalog writes only. */
  readonly visibility: JsonCache<object>;
  readonly search: JsonCache<object>;
  /** Price disclosure per event (src/pricing/pricingReads.ts), dropped when the event's prices move. */
  readonly pricing: JsonCache<object>;
  /** Cache key for a search: catalog version + hash of the normalized query. */
  searchKey(query: Readonly<Record<string, unknown>>): Promise<string>;
  /** After any catalog write: drop the event's detail and status, retire cached searches. */
  eventChanged(eventId: string): Promise<void>;
  /** Retire every cached search (the search index took in new documents). */
  retireSearches(): Promise<void>;
  /** Bring the cache metrics up to date (before metrics are read). */
  flushMetrics(): void;
}

export function createCaches(
  redis: Redis,
  bus: CacheBus,
  config: Config,
  metrics: Metrics,
  log: Logger,
  circuit: RedisCircuit = createRedisCircuit(redis),
): Caches {
  const make = (namespace: string, ttlSeconds: number) =>
    createJsonCache<object>(redis, bus, { namespace, ttlSeconds, localMaxEntries: config.cache.maxEntries, circuit }, metrics, log);
  const event = make('event', config.cache.eventsTtlSeconds);
  const visibility = make('event-status', config.cache.eventsTtlSeconds);
  const search = make('search', config.cache.searchTtlSeconds);
  // Prices move at most once per interval (and are dropped when they do): an interval is long enough.
  const pricing = make('pricing', config.pricing.updateIntervalSeconds);
  return {
    event,
    visibility,
    search,
    pricing,
    async searchKey(query) {
      // Without Redis the version is unknown: '0' keys only this pod's short-lived copies.
      const version = circuit.usable()
        ? await redis.get(CATALOG_VERSION_KEY).catch(() => {
            circuit.failed();
            return null;
          })
        : null;
      const normalized = JSON.stringify(Object.entries(query).filter(([, v]) => v !== undefined).sort());
      return `${version ?? '0'}:${createHash('sha256').update(normalized.toLowerCase()).digest('base64url')}`;
    },
    flushMetrics() {
      event.flushMetrics();
      visibility.flushMetrics();
      search.flushMetrics();
      pricing.flushMetrics();
    },
    async retireSearches() {
      await redis.incr(CATALOG_VERSION_KEY).catch((err: unknown) => log.warn({ err }, 'catalog version bump failed'));
    },
    async eventChanged(eventId) {
      await Promise.all([
        event.invalidate(eventId),
        visibility.invalidate(eventId),
        pricing.invalidate(eventId),
        redis.incr(CATALOG_VERSION_KEY).catch((err: unknown) => log.warn({ err }, 'catalog version bump failed')),
      ]);
    },
  };
}
