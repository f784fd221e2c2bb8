import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisOptions {
  readonly url: string;
  readonly password?: string;
  readonly database: number;
  /** Prefix for every key this service writes (tests use a random one per file). */
  readonly keyPrefix: string;
}

/**
 * A Redis client with an 'error' listener (ioredis reconnects by itself) and a bounded
 * offline queue so calls fail fast while Redis is down instead of piling up.
 */
export function createRedis(options: RedisOptions, log: Logger): Redis {
  const client = new Redis(options.url, {
    password: options.password,
    db: options.database,
    keyPrefix: options.keyPrefix,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
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

export type { Redis };
