/**
 * A rate limit per client key, decided in process and shared across pods through Redis in
 * the background, so a request never waits on Redis. Every door's budget is one of these
 * (REST public routes per client IP: `rl:public`; gRPC public reads per caller:
 * `rl:grpc-read`; gRPC writes per service identity: `rl:grpc-write`).
 *
 * Each pod keeps a fixed window per key (`points` per `windowSeconds`) and decides from it
 * alone, synchronously. Points it admits are also added to a per-key pending count; every
 * SYNC_INTERVAL_MS the pending counts are added to the shared window in Redis with
 * rate-limiter-flexible (RateLimiterRedis.penalty: INCRBY, the window's TTL set on first
 * use; key `<keyPrefix>:<key>`), and the pod adopts the global count and the window's
 * remaining time back into its local window (global count + what it admitted since the
 * sync began).
 *
 * Overshoot bound: a pod never admits more than `points` per window by itself, and learns
 * what the other pods admitted at most one sync interval plus a Redis round trip late. So
 * across P pods a key gets at most `points` plus what the other P−1 pods admit for it
 * within about SYNC_INTERVAL_MS + one round trip (~100 ms), and never more than
 * P × `points` per window. While Redis is unreachable each pod limits on its own (the
 * pending counts of a failed sync are dropped, not replayed into a later window).
 *
 * The local window is a small counter rather than rate-limiter-flexible's
 * RateLimiterMemory because that API is promise-only (a promise and a result object per
 * request) and the cached-read fast path decides synchronously; the shared window, TTL
 * and key format stay rate-limiter-flexible's.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors.js';

/** How often admitted points are pushed to Redis and the global counts pulled back. */
export const SYNC_INTERVAL_MS = 100;
/** Client keys tracked locally at once; the least recently seen go first (and start afresh). */
const MAX_LOCAL_KEYS = 100_000;

export interface RateLimiter {
  /** Count one request for `key`: undefined when admitted, else the seconds until retry. */
  tryConsume(key: string): number | undefined;
  /** As tryConsume, throwing RateLimitedError when over budget. */
  consume(key: string): Promise<void>;
  /** Push pending points to Redis and adopt the global counts now (tests, shutdown). */
  sync(): Promise<void>;
  /** Stop the background sync (also done when the Redis client ends). */
  stop(): void;
}

export interface RateLimiterOptions {
  /** The Redis key prefix of this budget's shared windows, e.g. `rl:public`. */
  readonly keyPrefix: string;
  readonly points: number;
  readonly windowSeconds: number;
  readonly syncIntervalMs?: number;
  readonly now?: () => number;
}

interface Window {
  /** Points counted in this window: the last known global count + admitted here since. */
  consumed: number;
  /** Points admitted here and not yet added to Redis. */
  pending: number;
  /** When the window ends (ms since the epoch). */
  resetAt: number;
}

export function createRateLimiter(redis: Redis, options: RateLimiterOptions, log: Logger): RateLimiter {
  const { points, windowSeconds } = options;
  const now = options.now ?? Date.now;
  const windowMs = windowSeconds * 1000;
  const shared = new RateLimiterRedis({ storeClient: redis, keyPrefix: options.keyPrefix, points, duration: windowSeconds });
  const windows = new LRUCache<string, Window>({ max: MAX_LOCAL_KEYS });
  /** Keys with pending points, for the next sync. */
  let dirty: string[] = [];
  let syncing: Promise<void> | undefined;

  function tryConsume(key: string): number | undefined {
    const t = now();
    let w = windows.get(key);
    if (w === undefined || t >= w.resetAt) {
      w = { consumed: 0, pending: 0, resetAt: t + windowMs };
      windows.set(key, w);
    }
    if (w.consumed >= points) return Math.max(1, Math.ceil((w.resetAt - t) / 1000));
    w.consumed++;
    if (w.pending++ === 0) dirty.push(key);
    return undefined;
  }

  async function syncKey(key: string): Promise<void> {
    const w = windows.peek(key);
    const admitted = w?.pending ?? 0;
    if (w === undefined || admitted === 0) return;
    w.pending = 0;
    let global: RateLimiterRes;
    try {
      global = await shared.penalty(key, admitted);
    } catch (err) {
      log.debug({ err }, 'rate limit sync failed; limiting locally');
      return;
    }
    if (global.msBeforeNext <= 0) return;
    // The key's window now (it may have been replaced meanwhile): adopt the global count,
    // plus what it admitted since this sync began.
    const current = windows.peek(key);
    const since = current?.pending ?? 0;
    windows.set(key, { consumed: global.consumedPoints + since, pending: since, resetAt: now() + global.msBeforeNext });
  }

  async function sync(): Promise<void> {
    while (syncing) await syncing;
    if (dirty.length === 0) return;
    const keys = dirty;
    dirty = [];
    syncing = Promise.all(keys.map(syncKey)).then(() => undefined);
    try {
      await syncing;
    } finally {
      syncing = undefined;
    }
  }

  const timer = setInterval(() => {
    if (!syncing) void sync();
  }, options.syncIntervalMs ?? SYNC_INTERVAL_MS);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    redis.off('end', stop);
  };
  redis.once('end', stop);

  return {
    tryConsume,
    async consume(key) {
      const retryAfter = tryConsume(key);
      if (retryAfter !== undefined) throw new RateLimitedError(retryAfter);
    },
    sync,
    stop,
  };
}
