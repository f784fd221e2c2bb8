/**
 * Shard leases in Redis: `shard-lease:<n>` holds the owning pod's name with a PX expiry.
 * The lease tells routers where a shard lives; correctness comes from the Postgres epoch.
 */
import type { Redis } from 'ioredis';

/**
 * Renew: extend the lease only if we still hold it.
 * KEYS[1] lease key. ARGV[1] pod name, ARGV[2] TTL in ms. Returns 1 if renewed, else 0.
 */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/**
 * Release: delete the lease only if we still hold it (never someone else's).
 * KEYS[1] lease key. ARGV[1] pod name. Returns 1 if released, else 0.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface LeaseStore {
  /** SET NX PX: true when we now hold the lease. */
  acquire(shardId: number, pod: string, ttlMs: number): Promise<boolean>;
  /** Compare-and-extend: true when the lease was ours and is extended. */
  renew(shardId: number, pod: string, ttlMs: number): Promise<boolean>;
  /** Compare-and-delete: true when the lease was ours and is gone. */
  release(shardId: number, pod: string): Promise<boolean>;
  /** Current holder of every shard's lease (null = free). */
  owners(shardCount: number): Promise<(string | null)[]>;
}

type Scripted = Redis & {
  ticketLeaseRenew(key: string, pod: string, ttlMs: number): Promise<number>;
  ticketLeaseRelease(key: string, pod: string): Promise<number>;
};

export const leaseKey = (shardId: number) => `shard-lease:${shardId}`;

export function createLeaseStore(redis: Redis): LeaseStore {
  redis.defineCommand('ticketLeaseRenew', { numberOfKeys: 1, lua: RENEW });
  redis.defineCommand('ticketLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
  const r = redis as Scripted;
  return {
    async acquire(shardId, pod, ttlMs) {
      return (await redis.set(leaseKey(shardId), pod, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async renew(shardId, pod, ttlMs) {
      return (await r.ticketLeaseRenew(leaseKey(shardId), pod, ttlMs)) === 1;
    },
    async release(shardId, pod) {
      return (await r.ticketLeaseRelease(leaseKey(shardId), pod)) === 1;
    },
    async owners(shardCount) {
      if (shardCount === 0) return [];
      return redis.mget(Array.from({ length: shardCount }, (_, i) => leaseKey(i)));
    },
  };
}
