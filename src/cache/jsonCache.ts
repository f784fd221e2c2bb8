/**
 * Two-level cache-aside for JSON read models: a small in-process LRU (CACHE_MAX_SIZE
 * entries, at most LOCAL_TTL_MS old) in front of Redis (`<namespace>:<key>`, with the
 * namespace's TTL). Invalidation deletes the Redis entry and tells every pod to drop its
 * local copy over pub/sub; the short local TTL bounds staleness if a message is lost.
 * A Redis failure degrades to the loader, never to an error for the reader, and while Redis
 * is known down (the circuit, redisCircuit.ts) it is not asked at all: a read costs the
 * loader's time, not a Redis timeout.
 * Local hits are counted in process and added to cache_lookups_total by flushMetrics
 * (called before metrics are read), keeping a counter update off the hottest path. Every
 * lookup is logged at debug (`cache lookup`, with the cache, key and result); local copies
 * dropped because the LRU is full count in cache_evictions_total.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { RedisCircuit } from './redisCircuit.js';

/** How long a pod may serve its local copy without asking Redis. */
export const LOCAL_TTL_MS = 2000;

export interface JsonCache<T> {
  getOrLoad(key: string, load: () => Promise<T>): Promise<T>;
  /** This pod's local copy (at most LOCAL_TTL_MS old; counted as a local hit), or undefined; no I/O. */
  peek(key: string): T | undefined;
  /** Add the local hits counted since the last flush to cache_lookups_total (before metrics are read). */
  flushMetrics(): void;
  invalidate(key: string): Promise<void>;
  /**
   * Drop this pod's copy and the Redis entry without a broadcast (every pod hears the cause
   * itself). The keys forgotten in one run of the event loop (a burst of notifications)
   * leave Redis in one command; resolves once it has run.
   */
  forget(key: string): Promise<void>;
}

export interface CacheBus {
  /** Broadcast "drop <namespace>:<key>" to every pod (this one included). */
  publish(namespace: string, key: string): Promise<void>;
  /** Receive broadcasts for a namespace. */
  onInvalidate(namespace: string, drop: (key: string) => void): void;
}

export interface JsonCacheOptions {
  readonly namespace: string;
  readonly ttlSeconds: number;
  readonly localMaxEntries: number;
  /** Skip Redis while this says it is down (default: always ask). */
  readonly circuit?: RedisCircuit;
}

export function createJsonCache<T extends object>(
  redis: Redis,
  bus: CacheBus,
  options: JsonCacheOptions,
  metrics: Metrics,
  log: Logger,
): JsonCache<T> {
  const { namespace, ttlSeconds } = options;
  const usable = () => options.circuit?.usable() ?? true;
  const failed = () => options.circuit?.failed();
  const local =
    options.localMaxEntries > 0 && ttlSeconds > 0
      ? new LRUCache<string, T>({
          max: options.localMaxEntries,
          ttl: Math.min(LOCAL_TTL_MS, ttlSeconds * 1000),
          dispose: (_value, _key, reason) => {
            if (reason === 'evict') metrics.cacheEvictions.inc({ cache: namespace });
          },
        })
      : undefined;
  bus.onInvalidate(namespace, (key) => local?.delete(key));
  const redisKey = (key: string) => `${namespace}:${key}`;
  const debug = log.isLevelEnabled('debug');
  const count = (key: string, result: 'hit' | 'miss' | 'error') => {
    metrics.cacheLookups.inc({ cache: namespace, result });
    if (debug) log.debug({ cache: namespace, key, result }, 'cache lookup');
  };
  /** Local hits are the hot path: counted here, added to the counter by flushMetrics. */
  let localHits = 0;
  /**
   * Keys `forget` drops from Redis together, in a microtask (after the burst, before any
   * other I/O). Until that command is sent, a read of one of them does not ask Redis, which
   * still holds the old entry: it loads, as after the deletion.
   */
  let forgetting: { readonly keys: Set<string>; readonly done: Promise<void> } | undefined;

  return {
    async getOrLoad(key, load) {
      if (ttlSeconds === 0) return load();
      const mine = local?.get(key);
      if (mine !== undefined) {
        localHits++;
        if (debug) log.debug({ cache: namespace, key, result: 'local_hit' }, 'cache lookup');
        return mine;
      }
      if (forgetting?.keys.has(key)) {
        count(key, 'miss');
        return load();
      }
      if (!usable()) {
        count(key, 'error');
        const value = await load();
        local?.set(key, value);
        return value;
      }
      try {
        const hit = await redis.get(redisKey(key));
        if (hit !== null) {
          count(key, 'hit');
          const value = JSON.parse(hit) as T;
          local?.set(key, value);
          return value;
        }
        count(key, 'miss');
      } catch (err) {
        count(key, 'error');
        failed();
        log.debug({ err, namespace }, 'cache read failed');
        return load();
      }
      const value = await load();
      local?.set(key, value);
      if (!usable()) return value;
      await redis.set(redisKey(key), JSON.stringify(value), 'EX', ttlSeconds).catch((err: unknown) => {
        failed();
        log.debug({ err, namespace }, 'cache write failed');
      });
      return value;
    },
    peek(key) {
      const mine = local?.get(key);
      if (mine !== undefined) {
        localHits++;
        if (debug) log.debug({ cache: namespace, key, result: 'local_hit' }, 'cache lookup');
      }
      return mine;
    },
    flushMetrics() {
      if (localHits === 0) return;
      metrics.cacheLookups.inc({ cache: namespace, result: 'local_hit' }, localHits);
      localHits = 0;
    },
    forget(key) {
      local?.delete(key);
      if (forgetting === undefined) {
        const keys = new Set<string>();
        const done = new Promise<void>((resolve) =>
          queueMicrotask(() => {
            forgetting = undefined;
            void redis
              .del(...[...keys].map(redisKey))
              .catch((err: unknown) => log.warn({ err, namespace, keys: [...keys].slice(0, 20), count: keys.size }, 'cache invalidation failed'))
              .finally(resolve);
          }),
        );
        forgetting = { keys, done };
      }
      forgetting.keys.add(key);
      return forgetting.done;
    },
    async invalidate(key) {
      local?.delete(key);
      // A failed invalidation serves stale data for up to the TTL: log it loudly.
      await redis.del(redisKey(key)).catch((err: unknown) => log.warn({ err, namespace, key }, 'cache invalidation failed'));
      await bus.publish(namespace, key).catch((err: unknown) => log.warn({ err, namespace, key }, 'cache broadcast failed'));
    },
  };
}
