/**
 * Whether a cache should ask Redis at all. Open (skip Redis, go to Postgres) while the
 * client is not connected, and for a short while after a cache command failed or timed out
 * (a Redis that accepts connections but does not answer); closed again once the client
 * reconnects or the pause is over. A dead Redis then costs a cache read nothing, a hung one
 * at most one command timeout per pause.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';

/** How long Redis is skipped after a failed cache command. */
export const CIRCUIT_OPEN_MS = 1000;

export interface RedisCircuit {
  /** True when a cache may send Redis a command now. */
  usable(): boolean;
  /** A cache command failed or timed out: skip Redis for a while. */
  failed(): void;
}

export function createRedisCircuit(redis: Pick<Redis, 'status' | 'on'>, options: { openMs?: number; now?: () => number } = {}): RedisCircuit {
  const openMs = options.openMs ?? CIRCUIT_OPEN_MS;
  const now = options.now ?? (() => performance.now());
  let openUntil = -Infinity;
  redis.on('ready', () => {
    openUntil = -Infinity;
  });
  return {
    usable: () => redis.status === 'ready' && now() >= openUntil,
    failed() {
      openUntil = now() + openMs;
    },
  };
}
