import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisOptions {
  readonly url: string;
  readonly password?: string;
  readonly database: number;
  /** Prefix for every key this service writes (tests use a random one per file). */
  readonly keyPrefix: string;
}

/** Longest a Redis command may take before it fails (leases, registry, caches alike). */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * A Redis client with an 'error' listener (ioredis reconnects by itself, at most a second
 * apart, so every pod is back soon after Redis is), a bounded offline queue and a command
 * timeout, so calls fail within REDIS_COMMAND_TIMEOUT_MS while Redis is down or hung
 * instead of piling up. Cache reads do not even try while it is down (redisCircuit.ts).
 */
export function createRedis(options: RedisOptions, log: Logger): Redis {
  const client = new Redis(options.url, {
    password: options.password,
    db: options.database,
    keyPrefix: options.keyPrefix,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 5000,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  let warned = false;
  client.on('error', (err: Error) => {
    if (!warned) log.warn({ err: err.message }, 'redis connection error');
    warned = true;
  });
  client.on('ready', () => {
    if (warned) log.info('redis connection restored');
    warned = false;
  });
  return client;
}

/**
 * True while the client is not connected: reconnecting, or between two attempts (a command
 * sent then would wait in the offline queue for up to the command timeout).
 */
export function redisDown(redis: Pick<Redis, 'status'>): boolean {
  return redis.status !== 'ready';
}

/**
 * Throw at once while Redis is down: for reads a caller would rather skip than wait a
 * command timeout for (routing refreshes, availability loads).
 */
export function failIfDown(redis: Pick<Redis, 'status'>, what: string): void {
  if (redisDown(redis)) throw new Error(`redis is unreachable (${what})`);
}

export type { Redis };
