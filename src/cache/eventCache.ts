/**
 * Cache-aside for event detail JSON in Redis (`event:<id>`, TTL CACHE_TTL_EVENTS).
 * Admin writes invalidate. A Redis failure degrades to the loader, never to an error.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';

export interface EventCache {
  getOrLoad<T>(eventId: string, load: () => Promise<T>): Promise<T>;
  invalidate(eventId: string): Promise<void>;
}

export function createEventCache(redis: Redis, ttlSeconds: number, metrics: Metrics, log: Logger): EventCache {
  const key = (id: string) => `event:${id}`;
  return {
    async getOrLoad(eventId, load) {
      if (ttlSeconds === 0) return load();
      try {
        const hit = await redis.get(key(eventId));
        if (hit !== null) {
          metrics.cacheLookups.inc({ cache: 'event', result: 'hit' });
          return JSON.parse(hit);
        }
        metrics.cacheLookups.inc({ cache: 'event', result: 'miss' });
      } catch (err) {
        metrics.cacheLookups.inc({ cache: 'event', result: 'error' });
        log.debug({ err }, 'event cache read failed');
        return load();
      }
      const value = await load();
      await redis.set(key(eventId), JSON.stringify(value), 'EX', ttlSeconds).catch((err: unknown) => {
        log.debug({ err }, 'event cache write failed');
      });
      return value;
    },
    async invalidate(eventId) {
      // A failed invalidation would serve stale data for up to the TTL: log it loudly.
      await redis.del(key(eventId)).catch((err: unknown) => log.warn({ err, eventId }, 'event cache invalidation failed'));
    },
  };
}
