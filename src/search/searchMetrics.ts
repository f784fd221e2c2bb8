/** Search and indexer metrics, registered on the service's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface SearchMetrics {
  /** Searches answered, by backend that answered and whether the answer was degraded. */
  readonly searches: Counter<'backend' | 'degraded'>;
  readonly searchSeconds: Histogram<'backend'>;
  /** Searches answered from Postgres because Elasticsearch failed. */
  readonly degraded: Counter;
  /** Events whose latest document version is not in Elasticsearch yet. */
  readonly outboxDepth: Gauge;
  /** Age of the oldest change not in Elasticsearch yet (0 when none). */
  readonly indexingLagSeconds: Gauge;
  /** Bulk requests that failed, and documents a bulk request refused. */
  readonly bulkErrors: Counter<'kind'>;
  readonly documentsIndexed: Counter;
}

export function createSearchMetrics(registry: Registry): SearchMetrics {
  const registers = [registry];
  return {
    searches: new Counter({ name: 'ticket_search_requests_total', help: 'Searches answered, by backend and degraded flag', labelNames: ['backend', 'degraded'], registers }),
    searchSeconds: new Histogram({ name: 'ticket_search_duration_seconds', help: 'Search time by backend (cache misses only)', labelNames: ['backend'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3], registers }),
    degraded: new Counter({ name: 'ticket_search_degraded_total', help: 'Searches answered from Postgres because Elasticsearch failed', registers }),
    outboxDepth: new Gauge({ name: 'ticket_search_outbox_depth', help: 'Events with a change not yet indexed in Elasticsearch', registers }),
    indexingLagSeconds: new Gauge({ name: 'ticket_search_indexing_lag_seconds', help: 'Age of the oldest change not yet indexed', registers }),
    bulkErrors: new Counter({ name: 'ticket_search_bulk_errors_total', help: 'Failed bulk requests (kind=request) and refused documents (kind=document)', labelNames: ['kind'], registers }),
    documentsIndexed: new Counter({ name: 'ticket_search_documents_indexed_total', help: 'Documents written to (or deleted from) Elasticsearch by the indexer', registers }),
  };
}
