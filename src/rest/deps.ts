import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Metrics } from '../observability/metrics.js';
import type { Caches } from '../cache/caches.js';
import type { PricingReads } from '../pricing/pricingReads.js';
import type { InventoryService } from '../inventory/inventoryService.js';
import type { AvailabilityFeed } from '../cache/availabilityFeed.js';
import type { AvailabilityJson } from '../inventory/availabilityView.js';
import type { OverloadDetector } from '../limits/overload.js';
import type { StreamSlots } from '../limits/streams.js';
import type { SearchService } from '../search/searchService.js';
import type { PodHealth } from '../observability/podHealth.js';

/** Everything route handlers need, built once in the composition root (src/main.ts). */
export interface RestDeps {
  readonly config: Config;
  readonly pool: Pool;
  readonly redis: Redis;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly caches: Caches;
  readonly availability: AvailabilityFeed;
  /** This pod's own availability views as its actors commit them (read-your-writes here); absent in tests without inventory. */
  readonly projectedViews?: (listener: (view: AvailabilityJson) => void) => () => void;
  readonly inventory: InventoryService;
  /** Price disclosure (cached per event). */
  readonly pricing: PricingReads;
  readonly search: SearchService;
  /** The pod's health picture (Postgres, schema, Redis, search, shards) for /ready; gRPC health serves the same. */
  readonly health: PodHealth;
  /** The pod's availability stream slots (shared with gRPC WatchAvailability). */
  readonly streams: StreamSlots;
  /** Load shedding: public reads first, admin writes last; operations routes never. */
  readonly overload: OverloadDetector;
}
