/**
 * The search indexer's lease in Redis (`search-indexer-lease`): one key, the holding pod's
 * name with a PX expiry, taken with SET NX and renewed or released only by its holder —
 * the same compare-and-extend scripts as the shard leases. One pod indexes at a time;
 * Elasticsearch's external versions keep even an overlapping writer harmless.
 */
import type { Redis } from 'ioredis';
import { RELEASE, RENEW } from '../shards/leases.js';

export const INDEXER_LEASE_KEY = 'search-indexer-lease';

export interface IndexerLease {
  /** Take the lease, or extend it when we hold it: true when we hold it now. */
  hold(): Promise<boolean>;
  release(): Promise<void>;
  holder(): Promise<string | null>;
}

type Scripted = Redis & {
  ticketIndexerLeaseRenew(key: string, pod: string, ttlMs: number, retake: string): Promise<number>;
  ticketIndexerLeaseRelease(key: string, pod: string): Promise<number>;
};

export function createIndexerLease(redis: Redis, pod: string, ttlMs: number): IndexerLease {
  redis.defineCommand('ticketIndexerLeaseRenew', { numberOfKeys: 1, lua: RENEW });
  redis.defineCommand('ticketIndexerLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
  const r = redis as Scripted;
  return {
    // Renew with re-take: extends our lease, or takes it when nobody holds it.
    hold: async () => (await r.ticketIndexerLeaseRenew(INDEXER_LEASE_KEY, pod, ttlMs, '1')) !== 0,
    release: async () => {
      await r.ticketIndexerLeaseRelease(INDEXER_LEASE_KEY, pod);
    },
    holder: () => redis.get(INDEXER_LEASE_KEY),
  };
}
