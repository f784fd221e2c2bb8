/**
 * Composition root: builds every dependency once from the config and wires them.
 * Lifecycle: STARTING → RUNNING → STOPPING → STOPPED; stop() is idempotent (it keeps its
 * in-flight promise) and runs each cleanup step in its own try/catch.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import type { Clock } from '../actors/runtime/clock.js';
import { writePortsFile, type BoundPorts } from './boundPorts.js';
import { createPool, type Pool } from './db/pool.js';
import { checkDatabaseAtStartup, describeSchema, expectedSchema, schemaStatus } from './db/schemaCheck.js';
import { createRedis } from './cache/redis.js';
import { createCaches } from './cache/caches.js';
import { createCacheBus } from './cache/cacheBus.js';
import { createPubSub } from './cache/pubsub.js';
import { listenForInventoryChanges } from './cache/inventoryNotifications.js';
import { createAvailabilityFeed } from './cache/availabilityFeed.js';
import { createLiveAvailability } from './cache/liveAvailability.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createPodHealth } from './observability/podHealth.js';
import { createRestApp } from './rest/app.js';
import { createPricingReads } from './pricing/pricingReads.js';
import { createInventory, type InventoryModule } from './inventory/wiring.js';
import { createVerifier } from './auth/verifier.js';
import { grpcServices } from './grpc/handlers/index.js';
import { requireReadableEvent } from './rest/eventDetail.js';
import { startGrpcServer } from './grpc/server.js';
import { TICKET_SERVICE_NAMES } from './grpc/proto.js';
import { startInternalServer } from './grpc/internalServer.js';
import { createGrpcLimits } from './grpc/limits.js';
import { createOverloadDetector, type LagSampler, type OverloadDetector } from './limits/overload.js';
import { createStreamSlots } from './limits/streams.js';
import { TICKET_KEYS_CHANNEL } from './tickets/keyStore.js';
import { cancelledAmong, EVENT_CANCELLED_CHANNEL } from './catalog/eventCancel.js';
import { createSearch, type SearchWiringDeps } from './search/wiring.js';
import { OUTBOX_CHANNEL } from './search/outbox.js';

/** In-flight gRPC calls get this long to finish on shutdown (streams are then cut). */
const GRPC_DRAIN_MS = 5000;

/** Where other pods reach this one: GRPC_ADVERTISE_ADDRESS, or POD_IP with the bound internal port. */
function advertiseAddress(config: Config, boundInternalPort: number): string {
  const configured = config.grpc.advertiseAddress;
  return config.internal.port === 0 ? configured.replace(/:\d+$/, `:${boundInternalPort}`) : configured;
}

/** `{http_port: …, grpc_port: …}` for the start-up log line. */
function portFields(ports: BoundPorts): Record<string, number> {
  return Object.fromEntries(Object.entries(ports).map(([name, port]) => [`${name}_port`, port]));
}

/**
 * A client gets REQUEST_TIMEOUT_MS to send a whole request, headers and body; then Node
 * answers 408 and closes the connection, so a slow sender cannot hold it open. Only the
 * request is timed: a response may take as long as it needs (an SSE stream stays open).
 * Connections are checked often enough that the limit holds within a fraction of itself.
 */
function httpServerOptions(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(requestTimeoutMs / 4))),
  };
}

export type ServiceState = 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

export interface RunningService {
  readonly httpUrl: string;
  /** The bound gRPC port: shorthand for `ports.grpc`. */
  readonly grpcPort: number;
  /** Every bound port (PORT and GRPC_PORT may be 0: the kernel picks). */
  readonly ports: BoundPorts;
  readonly log: Logger;
  readonly state: () => ServiceState;
  readonly inventory: InventoryModule;
  /** Load shedding (tests drive it with an injected sampler). */
  readonly overload: OverloadDetector;
  /** The Postgres pool (diagnostics; tests count its statements). */
  readonly pool: Pool;
  /** Its Prometheus metrics (what /metrics serves; benchmarks read the histograms). */
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Use this logger instead of one built from the config (tests pass a silent one). */
  readonly log?: Logger;
  /** Interface to bind the HTTP server to; all interfaces by default. */
  readonly host?: string;
  /** Event loop delay samples for load shedding; when given, nothing samples on a timer (tests call `overload.check()`). */
  readonly lagSampler?: LagSampler;
  /** Time of inventory decisions, hold and pricing timers (tests move it by hand); the system clock by default. */
  readonly clock?: Clock;
  /** Search indexer timing (tests shorten its waits). */
  readonly searchIndexer?: SearchWiringDeps['indexer'];
}

export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  let state: ServiceState = 'STARTING';
  const log = options.log ?? createLogger(config.logLevel);
  const transition = (next: ServiceState) => {
    log.info({ from: state, to: next, pod: config.pod.name }, 'service state');
    state = next;
  };
  const pool = createPool(
    { url: config.database.url, ssl: config.database.ssl, max: config.database.poolMax },
    log,
  );
  const expectedMigration = await expectedSchema();
  await checkDatabaseAtStartup(pool, config.database.url, expectedMigration).catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  const redis = createRedis(config.redis, log);
  const metrics = createMetrics();
  const pubsub = createPubSub(redis, config.redis.keyPrefix, log);
  const caches = createCaches(redis, createCacheBus(pubsub, log), config, metrics, log);
  const availability = createAvailabilityFeed(pubsub);
  const overload = createOverloadDetector({
    lagThresholdMs: config.overloadLagMs,
    log,
    metrics: { level: metrics.loadSheddingLevel, shed: metrics.loadShed },
    ...(options.lagSampler ? { sampler: options.lagSampler, autoStart: false } : {}),
  });
  const streams = createStreamSlots(config.streams, metrics);
  const grpcLimits = createGrpcLimits(redis, config, overload, metrics, log);
  const search = await createSearch(config, { pool, redis, caches, metrics, log, indexer: options.searchIndexer });
  const inventory = await createInventory(config, { pool, redis, log, metrics, pubsub, clock: options.clock });
  const pricing = createPricingReads({
    inventory: inventory.service,
    cache: caches.pricing,
    enabled: config.pricing.dynamicEnabled,
    intervalSeconds: config.pricing.updateIntervalSeconds,
    ...(options.clock ? { clock: () => (options.clock as Clock).now() } : {}),
    onDropFailed: (err) => log.warn({ err }, 'pricing cache drop failed'),
  });
  inventory.onView((view) => pricing.observe(view));
  const notifications = await listenForInventoryChanges(
    config.database,
    (eventId) => void caches.event.forget(eventId),
    log,
    {
      // A catalog write changed a search document: the indexer (if this pod's is active) looks now.
      [OUTBOX_CHANNEL]: () => search.indexer?.wake(),
      // A key was created, rotated or removed: sign and verify with the new set.
      [TICKET_KEYS_CHANNEL]: () => void inventory.keys.reload().catch((err: unknown) => log.warn({ err }, 'ticket keys reload failed')),
      // An event cancelled outside the pods (ticketctl): its actor re-reads the catalog and
      // applies it. After a reconnect (notifications sent meanwhile are lost) every actor
      // active here whose event the catalog says is cancelled does the same.
      [EVENT_CANCELLED_CHANNEL]: (eventId) => {
        const ids = eventId !== undefined ? Promise.resolve([eventId]) : cancelledAmong(pool, inventory.registry.activeKeys());
        const apply = async (id: string) => {
          await caches.eventChanged(id);
          await inventory.service.deliver(id, { type: 'SyncCatalog' });
        };
        void ids
          .then((list) => Promise.all(list.map(apply)))
          .catch((err: unknown) => log.warn({ err, eventId }, 'event cancellation delivery failed'));
      },
    },
  );
  // Live availability per event read over gRPC (REST keeps its own copy, src/rest/readModels.ts);
  // views this pod's actors commit go in at once, before the write is answered.
  const liveAvailability = createLiveAvailability({
    feed: availability,
    load: (eventId) => inventory.service.availability(eventId),
    maxEntries: config.cache.maxEntries,
    log,
  });
  const stopOffering = inventory.onView((view) => liveAvailability.offer(view));
  // The one health picture behind /ready and gRPC health (shards: 'starting' until sharding has settled).
  const health = createPodHealth(
    TICKET_SERVICE_NAMES,
    {
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
      schema: async () => describeSchema(await schemaStatus(pool, expectedMigration)),
      search: () => search.service.health(),
      shards: () => inventory.shards.status(),
    },
    log,
  );
  const { app, stop: stopRest } = createRestApp({
    config,
    pool,
    redis,
    log,
    metrics,
    caches,
    availability,
    inventory: inventory.service,
    pricing,
    search: search.service,
    projectedViews: (listener) => inventory.onView(listener),
    health,
    streams,
    overload,
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer(httpServerOptions(config.requestTimeoutMs), app.callback());
    s.listen(config.httpPort, options.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  /** Undo what started, so a failed start leaves nothing running. */
  const abort = async (err: unknown): Promise<never> => {
    health.stop();
    server.close();
    stopRest();
    grpcLimits.stop();
    overload.stop();
    stopOffering();
    await Promise.allSettled([inventory.stop(), search.stop(), notifications.close(), pubsub.close()]);
    redis.disconnect();
    await pool.end().catch(() => undefined);
    throw err;
  };
  const verifier = createVerifier(config.auth);
  const requireReadable = async (eventId: string, admin: boolean) => {
    await requireReadableEvent(pool, caches, eventId, async () => admin);
  };
  const handlers = grpcServices({ config, pool, log, inventory: inventory.service, availability, streams, metrics, pricing, requireReadableEvent: requireReadable, search: search.service, live: liveAvailability, shardMap: () => ({ shardCount: config.shards.count, shards: inventory.shards.ownerMap() }) });
  await health.start();
  const grpc = await startGrpcServer(config, handlers, { log, metrics, verifier, guard: grpcLimits, health }).catch(abort);
  const abortServing = async (err: unknown): Promise<never> => {
    await grpc.stop(0);
    return abort(err);
  };
  const internal = await startInternalServer(config, inventory.forwarding, inventory.peerTls.server, { log, metrics, verifier }).catch(abortServing);
  const abortBoth = async (err: unknown): Promise<never> => {
    await internal.stop(0);
    return abortServing(err);
  };
  const ports: BoundPorts = { http: (server.address() as AddressInfo).port, grpc: grpc.port, internal: internal.port };
  const advertised = advertiseAddress(config, internal.port);
  const advertisedHost = advertised.slice(0, advertised.lastIndexOf(':'));
  const announce = { http: `http://${advertisedHost}:${ports.http}`, grpc: config.grpc.publicAddress ?? `${config.pod.ip ?? '127.0.0.1'}:${ports.grpc}` };
  await inventory.startSharding(advertised, announce).catch(abortBoth);
  await health.check(); // shards taken: gRPC health and /ready say so now, not at the next poll
  const httpUrl = `http://${options.host ?? '127.0.0.1'}:${ports.http}`;
  if (config.portsFile !== undefined) {
    const portsFile = config.portsFile;
    await writePortsFile(portsFile, ports).catch((err: unknown) =>
      abortBoth(new Error(`cannot write PORTS_FILE ${portsFile}: ${(err as Error).message}`, { cause: err })),
    );
  }
  transition('RUNNING');
  log.info({ ...portFields(ports), httpUrl }, 'service listening');

  let stopping: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      transition('STOPPING');
      grpc.setDraining(); // the pod's health: draining (gRPC NOT_SERVING, /ready 503) at once
      const steps: Array<[string, () => Promise<unknown>]> = [
        // Hand every shard off first, while this pod still answers (with SHARD_MOVING).
        ['shards', () => inventory.shards.stop()],
        ['grpc', () => Promise.all([grpc.stop(GRPC_DRAIN_MS), internal.stop(GRPC_DRAIN_MS)])],
        ['http', () => new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Streams (SSE) hold connections open; give in-flight requests a moment, then cut.
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        }).finally(() => {
          stopRest();
          stopOffering();
        })],
        ['limits', async () => {
          grpcLimits.stop();
          overload.stop();
          health.stop();
        }],
        ['inventory', () => inventory.stop()],
        ['search', () => search.stop()],
        ['notifications', () => notifications.close()],
        ['pubsub', () => pubsub.close()],
        ['redis', () => redis.quit()],
        ['postgres', () => pool.end()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          log.warn({ err, step: name }, 'shutdown step failed');
        }
      }
      transition('STOPPED');
    })();
    return stopping;
  }

  return { httpUrl, grpcPort: ports.grpc, ports, log, state: () => state, inventory, overload, pool, metrics, stop };
}
