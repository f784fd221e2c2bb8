/**
 * Builds search from the config: Postgres alone (SEARCH_BACKEND=postgres), or
 * Elasticsearch with Postgres as the fallback and this pod's indexer (which indexes only
 * while it holds the indexer lease).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Caches } from '../cache/caches.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Metrics } from '../observability/metrics.js';
import type { SearchOptions } from './backend.js';
import { createElasticsearchSearch } from './elasticsearchSearch.js';
import { createEsClient, SEARCH_TIMEOUT_MS } from './esIndex.js';
import { DEFAULT_INDEXER_OPTIONS, startSearchIndexer, type IndexerOptions, type SearchIndexer } from './indexer.js';
import { createIndexerLease } from './indexerLease.js';
import { createPostgresSearch } from './postgresSearch.js';
import { createSearchMetrics } from './searchMetrics.js';
import { createSearchService, type SearchService } from './searchService.js';

/** The indexer lease's time to live; a batch's requests time out well within it. */
export const INDEXER_LEASE_MS = 15_000;
const INDEXER_REQUEST_TIMEOUT_MS = INDEXER_LEASE_MS / 3;

export interface SearchModule {
  readonly service: SearchService;
  /** This pod's indexer (Elasticsearch only). */
  readonly indexer?: SearchIndexer;
  stop(): Promise<void>;
}

export interface SearchWiringDeps {
  readonly pool: Pool;
  readonly redis: Redis;
  readonly caches: Caches;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Indexer timing (tests shorten the waits). */
  readonly indexer?: Partial<Omit<IndexerOptions, 'pod'>>;
}

export function searchOptions(config: Config): SearchOptions {
  return { fuzzy: config.search.fuzzyMatch, suggestionLimit: config.search.suggestionLimit, maxResults: config.search.maxResults };
}

export async function createSearch(config: Config, deps: SearchWiringDeps): Promise<SearchModule> {
  const { pool, redis, caches, log } = deps;
  const metrics = createSearchMetrics(deps.metrics.registry);
  const options = searchOptions(config);
  const postgres = createPostgresSearch(pool, options);
  const es = config.search.backend === 'elasticsearch' ? config.search.elasticsearch : undefined;
  if (!es) {
    return { service: createSearchService({ primary: postgres, caches, metrics, log }), stop: async () => undefined };
  }
  const readClient = await createEsClient(es, { requestTimeoutMs: SEARCH_TIMEOUT_MS });
  const writeClient = await createEsClient(es, { requestTimeoutMs: INDEXER_REQUEST_TIMEOUT_MS });
  const primary = createElasticsearchSearch(readClient, es.index, options);
  const indexer = startSearchIndexer(
    {
      pool,
      client: writeClient,
      alias: es.index,
      lease: createIndexerLease(redis, config.pod.name, INDEXER_LEASE_MS),
      metrics,
      log,
      onIndexed: () => caches.retireSearches(),
    },
    { ...DEFAULT_INDEXER_OPTIONS, ...deps.indexer, pod: config.pod.name },
  );
  return {
    service: createSearchService({ primary, fallback: postgres, caches, metrics, log }),
    indexer,
    async stop() {
      await indexer.stop();
      await Promise.allSettled([readClient.close(), writeClient.close()]);
    },
  };
}
