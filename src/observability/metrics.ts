/**
 * Prometheus metrics. One Registry per service instance (no global default registry),
 * so tests can run several instances in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** Lookups by cache (`event`, `search`, `pricing`) and result (`local_hit`, `hit`, `miss`, `error`). */
  readonly cacheLookups: Counter<'cache' | 'result'>;
  /** In-process copies dropped to make room (the LRU was full), by cache. */
  readonly cacheEvictions: Counter<'cache'>;
  /** gRPC calls by full method (`ticket.TicketService/ReserveTickets`) and status name (`OK`, `NOT_FOUND`…). */
  readonly grpcHandled: Counter<'method' | 'code'>;
  readonly grpcDuration: Histogram<'method'>;
  /** Shards this pod owns (serves) now. */
  readonly shardsOwned: Gauge;
  readonly leaseRenewFailures: Counter;
  /** Calls forwarded to the owning pod, by outcome. */
  readonly forwards: Counter<'outcome'>;
  readonly handoffSeconds: Histogram;
  /** Inventory calls that waited for a moving shard, by outcome. */
  readonly handoffWaits: Counter<'outcome'>;
  /** One group commit (the turns of several actors in one statement); per-turn commits are in inventoryMetrics.ts. */
  readonly commitSeconds: Histogram;
  /** Fenced steps (a turn's commit, or the fence check of a turn that writes nothing) refused because the shard epoch moved on. */
  readonly fencedCommits: Counter;
  /** 0 normal, 1 shedding public reads, 2 shedding writes too (src/limits/overload.ts). */
  readonly loadSheddingLevel: Gauge;
  readonly loadShed: Counter<'door' | 'kind'>;
  /** gRPC calls refused by a rate limit, by budget (`read`, `write`). */
  readonly rateLimited: Counter<'budget'>;
  readonly streamsOpen: Gauge;
  readonly streamsDropped: Counter<'door'>;
  /** Offline scans whose ticket another scan competed for (SyncCheckins). */
  readonly offlineCheckinConflicts: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'ticket-service' });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'REST requests by route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'REST request latency by route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'cache_lookups_total',
      help: 'Cache lookups by cache and result (local_hit, hit, miss, error)',
      labelNames: ['cache', 'result'],
      registers: [registry],
    }),
    cacheEvictions: new Counter({
      name: 'cache_evictions_total',
      help: 'In-process cache entries evicted to make room, by cache',
      labelNames: ['cache'],
      registers: [registry],
    }),
    grpcHandled: new Counter({
      name: 'grpc_server_handled_total',
      help: 'gRPC calls completed on the server, by method and status code',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    grpcDuration: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'gRPC call latency (whole stream lifetime for streams), by method',
      labelNames: ['method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    shardsOwned: new Gauge({ name: 'ticket_shards_owned', help: 'Inventory shards this pod owns', registers: [registry] }),
    leaseRenewFailures: new Counter({ name: 'ticket_shard_lease_renew_failures_total', help: 'Shard lease renewals that failed or found the lease taken', registers: [registry] }),
    forwards: new Counter({ name: 'ticket_shard_forwards_total', help: 'Inventory calls forwarded to the owning pod, by outcome', labelNames: ['outcome'], registers: [registry] }),
    handoffSeconds: new Histogram({ name: 'ticket_shard_handoff_seconds', help: 'Time to drain and release a shard', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    handoffWaits: new Counter({
      name: 'ticket_shard_handoff_waits_total',
      help: 'Inventory calls that waited for a moving shard, by outcome (delivered to the new owner, or SHARD_MOVING after the wait)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    commitSeconds: new Histogram({ name: 'ticket_group_commit_seconds', help: 'Time of one group commit (all turns of a batch) in Postgres', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] }),
    fencedCommits: new Counter({ name: 'ticket_fenced_commits_total', help: 'Actor commits and fence checks refused because the shard epoch moved on', registers: [registry] }),
    loadSheddingLevel: new Gauge({ name: 'ticket_load_shedding_level', help: 'Load shedding: 0 none, 1 public reads refused, 2 writes refused too', registers: [registry] }),
    loadShed: new Counter({ name: 'ticket_load_shed_total', help: 'Requests refused by load shedding, by door and kind', labelNames: ['door', 'kind'], registers: [registry] }),
    rateLimited: new Counter({ name: 'ticket_rate_limited_total', help: 'gRPC calls refused by a rate limit, by budget', labelNames: ['budget'], registers: [registry] }),
    streamsOpen: new Gauge({ name: 'ticket_availability_streams_open', help: 'Open SSE and WatchAvailability streams on this pod', registers: [registry] }),
    streamsDropped: new Counter({ name: 'ticket_availability_streams_dropped_total', help: 'Availability streams dropped because their consumer stopped reading, by door', labelNames: ['door'], registers: [registry] }),
    offlineCheckinConflicts: new Counter({
      name: 'ticket_offline_checkin_conflicts_total',
      help: 'Uploaded offline scans of a ticket another scan competed for (the same ticket scanned twice, or already checked in)',
      registers: [registry],
    }),
  };
}
