/**
 * A budget of failed authentications per client IP on admin routes, so tokens cannot be
 * guessed at request speed: each UNAUTHENTICATED answer spends a point, and a client
 * with no points left (AUTH_FAILURE_LIMIT per minute) is answered 429 RATE_LIMITED (with
 * Retry-After) before its token is even looked at, until the window ends. Shared by pods
 * through Redis with rate-limiter-flexible (key `rl:authfail:<ip>`); while Redis is
 * unreachable each pod keeps its own count in memory (the insurance limiter). Valid
 * tokens spend nothing.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { AppError, RateLimitedError } from '../errors.js';

/** The window failed authentications are counted in (AUTH_FAILURE_LIMIT per window). */
export const AUTH_FAILURE_WINDOW_SECONDS = 60;

export interface AuthFailureBudget {
  /** Throws RateLimitedError when `key` has no failures left. */
  check(key: string): Promise<void>;
  /** Run `authenticate`; an UNAUTHENTICATED failure spends one of `key`'s points. */
  guard<T>(key: string, authenticate: () => Promise<T>): Promise<T>;
}

export interface AuthFailureOptions {
  /** Failed authentications a client may make per window. */
  readonly points: number;
  readonly windowSeconds?: number;
}

export function createAuthFailureBudget(redis: Redis, options: AuthFailureOptions): AuthFailureBudget {
  const { points } = options;
  const duration = options.windowSeconds ?? AUTH_FAILURE_WINDOW_SECONDS;
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'rl:authfail',
    points,
    duration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'rl:authfail', points, duration }),
  });
  const retryAfter = (msBeforeNext: number) => Math.max(1, Math.ceil(msBeforeNext / 1000));

  async function check(key: string): Promise<void> {
    const spent = await limiter.get(key);
    if (spent !== null && spent.consumedPoints >= points) throw new RateLimitedError(retryAfter(spent.msBeforeNext));
  }

  return {
    check,
    async guard(key, authenticate) {
      await check(key);
      try {
        return await authenticate();
      } catch (err) {
        if (err instanceof AppError && err.code === 'UNAUTHENTICATED') await limiter.penalty(key, 1);
        throw err;
      }
    },
  };
}
