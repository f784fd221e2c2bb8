/**
 * What the shard commands need from the environment: Redis exactly as the service
 * connects (REDIS_URL, REDIS_PASSWORD, REDIS_DATABASE, REDIS_KEY_PREFIX, same defaults
 * and rules as src/config.ts) and the shard settings (SHARD_COUNT, SHARD_LEASE_MS).
 * The client fails fast: no reconnect loop, no offline queue, a short connect timeout,
 * so an unreachable Redis is one clear error line instead of a hanging command.
 */
import { Redis } from 'ioredis';
import { redactUrl } from '../observability/logger.js';
import { CliError, cliVariables, describeError } from './db.js';

export interface CliRedisConfig {
  readonly url: string;
  readonly password?: string;
  readonly database: number;
  readonly keyPrefix: string;
}

export interface CliShardConfig {
  readonly redis: CliRedisConfig;
  readonly shardCount: number;
  readonly leaseMs: number;
}

export function loadShardConfig(env: NodeJS.ProcessEnv = process.env): CliShardConfig {
  const e = cliVariables(['REDIS_URL', 'REDIS_PASSWORD', 'REDIS_DATABASE', 'REDIS_KEY_PREFIX', 'SHARD_COUNT', 'SHARD_LEASE_MS'], env);
  return {
    redis: { url: e.REDIS_URL, password: e.REDIS_PASSWORD, database: e.REDIS_DATABASE, keyPrefix: e.REDIS_KEY_PREFIX },
    shardCount: e.SHARD_COUNT,
    leaseMs: e.SHARD_LEASE_MS,
  };
}

const CONNECT_TIMEOUT_MS = 3000;

/** Connect (same URL, password, database and key prefix as the service) or throw a CliError. */
export async function connectRedis(config: CliRedisConfig): Promise<Redis> {
  const client = new Redis(config.url, {
    password: config.password,
    db: config.database,
    keyPrefix: config.keyPrefix,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // One attempt: a CLI reports the failure rather than reconnecting forever.
    retryStrategy: () => null,
  });
  // Failures surface as the rejected connect() or command; don't crash on 'error'. With no
  // retries connect() rejects with a bare "Connection is closed": keep the real cause.
  let lastError: unknown;
  client.on('error', (err: unknown) => (lastError = err));
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    const cause = lastError ?? err;
    throw new CliError(`cannot connect to redis at ${redactUrl(config.url)}: ${describeError(cause)}`, { cause });
  }
  return client;
}

/** Run `fn` with a connected client; always disconnects. */
export async function withRedis<T>(config: CliRedisConfig, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(config);
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** Await a Redis call, turning its failure (connection lost, NOAUTH, WRONGTYPE...) into a CliError. */
export async function redisCall<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw new CliError(`redis: ${what} failed: ${describeError(err)}`, { cause: err });
  }
}
