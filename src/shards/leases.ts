/**
 * Shard leases in Redis: `shard-lease:<n>` holds the owning pod's name with a PX expiry.
 * The lease tells routers where a shard lives; correctness comes from the Postgres epoch.
 */
import type { Redis } from 'ioredis';

/**
 * Renew: extend the lease only if we still hold it; with ARGV[3] = '1', also take it back
 * when nobody holds it (Redis lost it: restarted without persistence, or the lease ran out
 * while Redis was unreachable). The Postgres epoch still decides who may commit.
 * KEYS[1] lease key. ARGV[1] pod name, ARGV[2] TTL in ms, ARGV[3] '1' to re-take.
 * Returns 1 if renewed, 2 if re-taken, else 0.
 */
export const RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder and ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0`;

/**
 * Release: delete the lease only if we still hold it (never someone else's).
 * KEYS[1] lease key. ARGV[1] pod name. Returns 1 if released, else 0.
 */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export type RenewResult = 'renewed' | 'retaken' | 'lost';

export interface LeaseStore {
  /** SET NX PX: true when we now hold the lease. */
  acquire(shardId: number, pod: string, ttlMs: number): Promise<boolean>;
  /**
   * Compare-and-extend: 'renewed' when the lease was ours and is extended; with `retake`,
   * 'retaken' when nobody held it and now we do; otherwise 'lost' (someone else holds it,
   * or it is gone and `retake` is off).
   */
  renew(shardId: number, pod: string, ttlMs: number, retake?: boolean): Promise<RenewResult>;
  /** Compare-and-delete: true when the lease was ours and is gone. */
  release(shardId: number, pod: string): Promise<boolean>;
  /** Current holder of every shard's lease (null = free). */
  owners(shardCount: number): Promise<(string | null)[]>;
}

type Scripted = Redis & {
  ticketLeaseRenew(key: string, pod: string, ttlMs: number, retake: string): Promise<number>;
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
    async renew(shardId, pod, ttlMs, retake = false) {
      const result = await r.ticketLeaseRenew(leaseKey(shardId), pod, ttlMs, retake ? '1' : '0');
      return result === 1 ? 'renewed' : result === 2 ? 'retaken' : 'lost';
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
