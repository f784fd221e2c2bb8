/**
 * The cluster as `ticketctl shards list` and `ticketctl status` show it, for the admin
 * page (`GET /admin/cluster`): every shard's lease owner, desired owner, state and fencing
 * epoch, every pod with its heartbeat, shards held and wanted, and its own `/ready` answer
 * (fetched from the REST URL it announces). The same code as the CLI computes it
 * (src/cli/shardState.ts, src/cli/clusterStatus.ts), read through this pod's Redis and
 * Postgres connections.
 */
import type { Redis } from 'ioredis';
import { podStatuses, statusJson } from '../cli/clusterStatus.js';
import { readCluster, readEpochs, shardsJson, summarize } from '../cli/shardState.js';
import type { Pool } from '../db/pool.js';
import { DependencyError } from '../errors.js';
import { createLeaseStore } from '../shards/leases.js';
import { createPodRegistry } from '../shards/podRegistry.js';

export interface ClusterMapDeps {
  readonly redis: Redis;
  readonly pool: Pool;
  readonly shardCount: number;
  readonly leaseMs: number;
}

export async function clusterMap(deps: ClusterMapDeps) {
  const sources = { leases: createLeaseStore(deps.redis), registry: createPodRegistry(deps.redis), shardCount: deps.shardCount, leaseMs: deps.leaseMs };
  const view = await readCluster(sources).catch((err: unknown) => {
    throw new DependencyError('redis', err);
  });
  const client = await deps.pool.connect().catch((err: unknown) => {
    throw new DependencyError('postgres', err);
  });
  const epochs = await readEpochs(client)
    .catch((err: unknown) => {
      throw new DependencyError('postgres', err);
    })
    .finally(() => client.release());
  const status = statusJson(view, await podStatuses(view));
  const { shards, overrides, drained } = shardsJson(view, epochs);
  return { summary: summarize(view), shardCount: view.shardCount, counts: status.shards, pods: status.pods, shards, overrides, drained };
}
