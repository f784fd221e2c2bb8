import type { Logger } from 'pino';
import type { AvailabilityFeed } from '../../cache/availabilityFeed.js';
import type { LiveAvailability } from '../../cache/liveAvailability.js';
import type { Config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import type { PricingReads } from '../../pricing/pricingReads.js';
import type { InventoryService } from '../../inventory/inventoryService.js';
import type { StreamSlots } from '../../limits/streams.js';
import type { Metrics } from '../../observability/metrics.js';
import type { SearchService } from '../../search/searchService.js';
import type { ShardOwnerEntry } from '../../shards/shardTypes.js';

/** What the RPC handlers need, built once in the composition root. */
export interface HandlerDeps {
  readonly config: Config;
  readonly pool: Pool;
  readonly log: Logger;
  readonly inventory: InventoryService;
  /** Price disclosure (cached per event). */
  readonly pricing: PricingReads;
  readonly availability: AvailabilityFeed;
  /** The pod's availability stream slots (shared with SSE). */
  readonly streams: StreamSlots;
  readonly metrics: Pick<Metrics, 'offlineCheckinConflicts'>;
  /**
   * NOT_FOUND unless the caller may read the event (drafts and cancelled: admins only),
   * from the cached event detail: the hot reads check it without a query.
   */
  readonly requireReadableEvent: (eventId: string, admin: boolean) => Promise<void>;
  readonly search: SearchService;
  /** The shard count and every shard's owner as this pod last saw it (GetShardMap). */
  readonly shardMap: () => { readonly shardCount: number; readonly shards: readonly ShardOwnerEntry[] };
  /** The live availability this pod holds (fed over pub/sub): public availability reads answer from it. */
  readonly live?: LiveAvailability;
}
