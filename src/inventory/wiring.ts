/**
 * Builds the inventory side of one pod: shard epochs, ticket signing, projections, the
 * actor registry and the InventoryService facade. `stop()` drains actors (snapshots),
 * flushes projections and stops the signing workers, each step on its own.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ActorRegistry } from '../../actors/runtime/actorRegistry.js';
import { InventoryActor } from '../../actors/inventory/inventoryActor.js';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { claimAllShards, type ShardOwnership } from '../shards/singleOwner.js';
import { createTicketSigner } from '../tickets/signingPool.js';
import { loadSigningKeys } from '../tickets/ticketCodes.js';
import { InventoryService } from './inventoryService.js';
import { createProjector } from './projector.js';

export interface InventoryModule {
  readonly service: InventoryService;
  readonly registry: ActorRegistry<InventoryCommand, InventoryReply>;
  readonly ownership: ShardOwnership;
  readonly publicKeyPem: string;
  /** Write the lagging Postgres counters now (tests, operations). */
  flushProjections(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInventory(
  config: Config,
  deps: { pool: Pool; redis: Redis; log: Logger; clock?: () => number },
): Promise<InventoryModule> {
  const { pool, redis, log } = deps;
  const clock = deps.clock ?? Date.now;
  const keys = loadSigningKeys(config.ticketSigningKeyPem, { allowEphemeral: config.nodeEnv !== 'production' });
  if (keys.ephemeral) log.warn('TICKET_SIGNING_KEY not set: using a key for this process only (codes will not verify after a restart)');
  const signer = createTicketSigner(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const ownership = await claimAllShards(pool, config.pod.name, config.shards.count);
  const projector = createProjector(
    redis,
    pool,
    {
      keyPrefix: config.redis.keyPrefix,
      ttlSeconds: config.cache.availabilityTtlSeconds,
      flushIntervalMs: config.inventory.projectionIntervalMs,
      clock,
    },
    log,
  );
  const settings = {
    snapshotEveryEvents: config.inventory.snapshotEveryEvents,
    defaultHoldSeconds: config.inventory.holdDefaultSeconds,
    maxHoldSeconds: config.inventory.holdMaxSeconds,
    discountsEnabled: config.pricing.discountRulesEnabled,
    shardCount: config.shards.count,
  };
  const registry: ActorRegistry<InventoryCommand, InventoryReply> = new ActorRegistry(
    (eventId) =>
      new InventoryActor(eventId, {
        pool,
        log,
        clock,
        ownership,
        signer,
        settings,
        afterCommit: (id, state, catalog) => projector.project(id, state, catalog),
        schedule: (id, cmd) => registry.send(id, cmd),
      }),
    log,
    { mailboxCapacity: config.inventory.mailboxCapacity, idleMs: config.inventory.actorIdleMs },
  );
  const service = new InventoryService(registry, projector, signer, keys.publicKey);
  return {
    service,
    registry,
    ownership,
    publicKeyPem: keys.publicKeyPem,
    flushProjections: () => projector.flush(),
    async stop() {
      for (const [name, step] of [
        ['actors', () => registry.stop()],
        ['projections', () => projector.stop()],
        ['signer', () => signer.close()],
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
