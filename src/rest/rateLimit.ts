/**
 * Rate limiting of public routes per client IP, shared across pods through Redis
 * (rate-limiter-flexible). While Redis is unreachable an in-memory limiter with the
 * same budget takes over, so an outage neither blocks readers nor lifts the limit.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors.js';

export interface RateLimiter {
  /** Throws RateLimitedError when `key` is over budget. */
  consume(key: string): Promise<void>;
}

export function createRateLimiter(redis: Redis, points: number, windowSeconds: number): RateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'rl:public',
    points,
    duration: windowSeconds,
    insuranceLimiter: new RateLimiterMemory({ points, duration: windowSeconds }),
  });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
        }
        throw rejection;
      }
    },
  };
}
