/**
 * Single-owner shard ownership (until shard leases across pods land): at start the pod
 * takes every shard by bumping its epoch in `shard_owners`. The epoch is the fencing
 * token each actor commit checks; if anything bumps it underneath (another owner), the
 * pod's commits for that shard are rejected from then on.
 */
import type { Queryable } from '../db/pool.js';

export interface ShardOwnership {
  /** The epoch this pod holds for `shardId`, or undefined when it does not own it. */
  epochFor(shardId: number): number | undefined;
}

export async function claimAllShards(db: Queryable, podName: string, shardCount: number): Promise<ShardOwnership> {
  const { rows } = await db.query<{ shard_id: number; epoch: string }>(
    `INSERT INTO shard_owners (shard_id, owner_pod, epoch, acquired_at)
     SELECT g, $1, 1, now() FROM generate_series(0, $2::int - 1) AS g
     ON CONFLICT (shard_id) DO UPDATE
       SET epoch = shard_owners.epoch + 1, owner_pod = EXCLUDED.owner_pod, acquired_at = now(), updated_at = now()
     RETURNING shard_id, epoch`,
    [podName, shardCount],
  );
  const epochs = new Map(rows.map((r) => [r.shard_id, Number(r.epoch)]));
  return { epochFor: (shardId) => epochs.get(shardId) };
}
