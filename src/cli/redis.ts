/**
 * What the shard commands need from the environment: Redis exactly as the service
 * connects (REDIS_URL, REDIS_PASSWORD, REDIS_DATABASE, REDIS_KEY_PREFIX, same defaults
 * and rules as src/config.ts) and the shard settings (SHARD_COUNT, SHARD_LEASE_MS).
 * The client fails fast: no reconnect loop, no offline queue, a short connect timeout,
 * so an unreachable Redis is one clear error line instead of a hanging command.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { redactUrl } from '../observability/logger.js';
import { CliError, describeError } from './db.js';

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

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

// Same names, defaults and validation as the service's src/config.ts.
const schema = z.object({
  REDIS_URL: z
    .string()
    .default('redis://localhost:6379')
    .refine(
      (v) => {
        try {
          return ['redis:', 'rediss:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: 'must be a URL (redis: or rediss:)' },
    ),
  REDIS_PASSWORD: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v)),
  REDIS_DATABASE: int(2, 0, 15),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{0,64}$/, { message: 'must be up to 64 of A-Z a-z 0-9 : _ . -' })
    .default('ticket:'),
  SHARD_COUNT: int(64, 1, 4096),
  SHARD_LEASE_MS: int(10_000, 1000, 300_000),
});

export function loadShardConfig(env: NodeJS.ProcessEnv = process.env): CliShardConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`invalid configuration: ${String(issue?.path[0] ?? 'environment')}: ${issue?.message ?? 'invalid'}`);
  }
  const e = parsed.data;
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
