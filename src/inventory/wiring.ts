/**
 * Builds the inventory side of one pod: ticket signing, projections, the actor registry,
 * shard ownership (Redis leases + Postgres epochs), routing to the owning pod and the
 * InventoryService facade. `startSharding` runs once the servers are bound (other pods
 * forward to the internal gRPC address; operators' tools read the REST URL; clients that
 * route calls themselves read the public gRPC address from GetShardMap). `stop()` hands every shard off (drain, snapshot, release),
 * flushes projections and stops the signing workers, each step on its own.
 */
import { createPricingPort } from '../pricing/port.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ActorRegistry } from '../../actors/runtime/actorRegistry.js';
import { FencedError } from '../../actors/inventory/store.js';
import { createCommitBatcher, type CommitBatcher } from '../../actors/inventory/commitBatcher.js';
import { InventoryActor } from '../../actors/inventory/inventoryActor.js';
import { loadPastReservations } from '../../actors/inventory/pastReservationStore.js';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { isReadCommand } from '../../actors/inventory/committedView.js';
import { systemClock, type Clock } from '../../actors/runtime/clock.js';
import type { PubSub } from '../cache/pubsub.js';
import { redisDown } from '../cache/redis.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { isRowFault } from '../db/sqlstate.js';
import type { Metrics } from '../observability/metrics.js';
import { createInventoryMetrics } from '../observability/inventoryMetrics.js';
import { slowOperationLog } from '../observability/slowOperations.js';
import { createForwarder, forwardingService } from '../shards/forwarding.js';
import { createPodTokens } from '../shards/podAuth.js';
import { loadPeerTls, type PeerTls } from '../shards/peerTls.js';
import { createLeaseStore } from '../shards/leases.js';
import { createPodRegistry, type PodRegistry } from '../shards/podRegistry.js';
import { createRouter } from '../shards/router.js';
import { ShardManager, type ShardNudges } from '../shards/shardManager.js';
import { shardOf } from '../shards/shardOf.js';
import type { ExtraService } from '../grpc/server.js';
import { createTicketSigner } from '../tickets/signingPool.js';
import { createKeyRing, type KeyRing } from '../tickets/keyRing.js';
import { InventoryService } from './inventoryService.js';
import { createProjector, type ViewListener } from './projector.js';

export interface InventoryModule {
  readonly service: InventoryService;
  readonly registry: ActorRegistry<InventoryCommand, InventoryReply>;
  /** This pod's group commit (diagnostics, tests). */
  readonly committer: CommitBatcher;
  readonly shards: ShardManager;
  /** The ticket signing keys (reload on a key change notification). */
  readonly keys: KeyRing;
  /** The pod-to-pod forwarding service, for the internal gRPC server. */
  readonly forwarding: ExtraService;
  /** TLS between pods (the internal server's credentials among them). */
  readonly peerTls: PeerTls;
  /** Join the cluster: heartbeat at `address` (the internal server's), announcing the REST URL and public gRPC address, and take this pod's shards. */
  startSharding(address: string, announce: PodAnnouncement): Promise<void>;
  /** Write the lagging Postgres counters now (tests, operations). */
  flushProjections(): Promise<void>;
  /** Every availability view this pod projects, as it is made (before the write is answered). */
  onView(listener: ViewListener): () => void;
  stop(): Promise<void>;
}

/** What a pod's heartbeat tells besides its internal address. */
export interface PodAnnouncement {
  /** The REST base URL (`ticketctl status`). */
  readonly http: string;
  /** host:port of the public gRPC port (GetShardMap). */
  readonly grpc: string;
}

export async function createInventory(
  config: Config,
  deps: {
    pool: Pool;
    redis: Redis;
    log: Logger;
    metrics: Metrics;
    /** Hand-off nudges between pods (without it pods notice hand-offs at their next tick). */
    pubsub?: PubSub;
    /** Time of inventory decisions, hold timers and availability flushes (tests move it by hand); shards keep the system clock. */
    clock?: Clock;
  },
): Promise<InventoryModule> {
  const { pool, redis, log, metrics, pubsub } = deps;
  const inventoryClock = deps.clock ?? systemClock;
  const clock = () => inventoryClock.now();
  const keys = await createKeyRing(pool, {
    configuredPem: config.ticketSigningKeyPem,
    allowDatabaseKeys: config.nodeEnv !== 'production',
    log,
  });
  const signer = createTicketSigner(() => keys.signingKey());
  // The gauges read the actor registry (built below) at scrape time.
  const inventoryMetrics = createInventoryMetrics(
    metrics.registry,
    {
      activeActors: () => registry.activeKeys().length,
      maxMailboxDepth: () => registry.maxMailboxDepth(),
      levels: () => registry.activeBehaviors().flatMap((b) => (b instanceof InventoryActor ? [b.current.levels] : [])),
    },
    slowOperationLog(log, config.slowOperationMs),
  );
  const pricing = createPricingPort({ enabled: config.pricing.dynamicEnabled, intervalSeconds: config.pricing.updateIntervalSeconds });
  const projector = createProjector(
    redis,
    pool,
    {
      keyPrefix: config.redis.keyPrefix,
      ttlSeconds: config.cache.availabilityTtlSeconds,
      flushIntervalMs: config.inventory.projectionIntervalMs,
      clock: inventoryClock,
      pricing,
      onAvailabilityFlush: inventoryMetrics.onAvailabilityFlush,
    },
    log,
  );
  const shardCount = config.shards.count;
  const podName = config.pod.name;
  const settings = {
    snapshotEveryEvents: config.inventory.snapshotEveryEvents,
    defaultHoldSeconds: config.inventory.holdDefaultSeconds,
    maxHoldSeconds: config.inventory.holdMaxSeconds,
    discountsEnabled: config.pricing.discountRulesEnabled,
    idempotencyWindowSeconds: config.inventory.idempotencyWindowSeconds,
  };
  const leases = createLeaseStore(redis);
  const registryOfPods = createPodRegistry(redis);
  let announced: PodAnnouncement | undefined;
  // Every heartbeat also says where the pod's REST and public gRPC ports are.
  const pods: PodRegistry = { ...registryOfPods, heartbeat: (pod) => registryOfPods.heartbeat({ ...pod, http: announced?.http, grpc: announced?.grpc }) };
  // The hooks reach the registry below; they only run once shards are taken.
  const shards: ShardManager = new ShardManager(
    pool,
    leases,
    pods,
    {
      drain: async (shard) => {
        await Promise.all(actorsOf(shard).map((k) => registry.passivate(k)));
      },
      lost: (shard) => actorsOf(shard).forEach((k) => registry.discard(k)),
      transition: () => metrics.shardsOwned.set(shards.ownedShards().length),
      renewFailed: () => metrics.leaseRenewFailures.inc(),
      handedOff: (_shard, seconds) => metrics.handoffSeconds.observe(seconds),
    },
    {
      pod: { name: podName, address: '' },
      shardCount,
      leaseMs: config.shards.leaseMs,
      redisUp: () => !redisDown(redis),
      nudges: pubsub ? shardNudges(pubsub, log) : undefined,
    },
    log,
  );
  const committer = createCommitBatcher(pool, {
    isTurnFault: isRowFault,
    onRefused: (eventId, err) => log.warn({ err, eventId }, 'postgres refused one turn’s write; it failed alone'),
    onBatch: (_turns, seconds) => metrics.commitSeconds.observe(seconds),
  });
  const registry: ActorRegistry<InventoryCommand, InventoryReply> = new ActorRegistry(
    (eventId) =>
      new InventoryActor(eventId, {
        pool,
        log,
        clock,
        timers: inventoryClock,
        podName,
        ownership: shards,
        shardOf: (id) => shardOf(id, shardCount),
        signer,
        pastReservations: (eventId, ids) => loadPastReservations(pool, eventId, ids),
        settings,
        pricing,
        afterCommit: (id, state, catalog, committed) => projector.project(id, state, catalog, committed),
        committer,
        onFenced: () => metrics.fencedCommits.inc(),
        onCommit: inventoryMetrics.onCommit,
        schedule: (id, cmd) => service.deliver(id, cmd),
      }),
    log,
    {
      mailboxCapacity: config.inventory.mailboxCapacity,
      idleMs: config.inventory.actorIdleMs,
      pipelineDepth: config.inventory.pipelineDepth,
      isRead: isReadCommand,
      observer: inventoryMetrics.actorObserver,
    },
  );
  const actorsOf = (shard: number) => registry.activeKeys().filter((k) => shardOf(k, shardCount) === shard);
  const peerTls = await loadPeerTls(config);
  const podTokens = createPodTokens(config.internal.authSecret, podName);
  const forwarder = createForwarder({ tls: peerTls, podTokens });
  const router = createRouter({
    routing: shards,
    forwarder,
    shardCount,
    podName,
    local: (eventId, cmd) => inventoryMetrics.observeOperation(cmd, registry.send(eventId, cmd)),
    onForward: (outcome) => metrics.forwards.inc({ outcome }),
    handoffWaitMs: config.shards.handoffWaitMs,
    onHandoffWait: (outcome) => metrics.handoffWaits.inc({ outcome }),
  });
  const service = new InventoryService(router.route, projector, signer, keys, { timers: inventoryClock, log: deps.log, what: 'inventory catalog sync' });
  return {
    service,
    registry,
    committer,
    shards,
    keys,
    forwarding: forwardingService(router.serveLocally, { mutualTls: config.internal.mutualTls, podTokens }),
    peerTls,
    async startSharding(address, announce) {
      shards.setAddress(address);
      announced = announce;
      await shards.start();
      // Back from an outage: heartbeat and renew at once rather than at the next tick.
      redis.on('ready', () => {
        if (shards.status() !== 'draining') void shards.tick();
      });
    },
    flushProjections: () => projector.flush(),
    onView: (listener) => projector.onView(listener),
    async stop() {
      for (const [name, step] of [
        ['catalog sync retries', async () => service.stopRetries()],
        ['shards', () => shards.stop()],
        ['actors', () => registry.stop()],
        ['projections', () => projector.stop()],
        ['signer', () => signer.close()],
        ['keys', async () => keys.stop()],
        ['forwarder', async () => forwarder.close()],
      ] as const) {
        try {
          await step();
        } catch (err) {
          log.warn({ err, step: name }, 'inventory shutdown step failed');
        }
      }
    },
  };
}

export { FencedError };

/** The channel pods nudge each other on when shard ownership changes (a hand-off started or a lease was freed). */
export const SHARD_NUDGE_CHANNEL = 'shard-nudges';

function shardNudges(pubsub: PubSub, log: Logger): ShardNudges {
  return {
    announce: () => void pubsub.publish(SHARD_NUDGE_CHANNEL, '1').catch((err: unknown) => log.debug({ err }, 'shard nudge not sent')),
    subscribe(onNudge) {
      const unsubscribed = pubsub.subscribe(SHARD_NUDGE_CHANNEL, () => onNudge()).catch((err: unknown) => {
        log.warn({ err }, 'shard nudges unavailable: hand-offs are noticed at the next tick');
        return undefined;
      });
      return () => void unsubscribed.then((off) => off?.()).catch(() => undefined);
    },
  };
}
