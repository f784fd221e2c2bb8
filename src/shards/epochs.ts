/** Shard fencing epochs in Postgres (`shard_owners`): taken on acquisition, read back to resume. */
import type { Queryable } from '../db/pool.js';

/** Bump the fencing epoch of a shard and name us its owner; returns the new epoch. */
export async function takeEpoch(db: Queryable, shardId: number, pod: string): Promise<number> {
  const { rows } = await db.query<{ epoch: string }>(
    `INSERT INTO shard_owners (shard_id, owner_pod, epoch, acquired_at) VALUES ($1, $2, 1, now())
     ON CONFLICT (shard_id) DO UPDATE
       SET epoch = shard_owners.epoch + 1, owner_pod = EXCLUDED.owner_pod, acquired_at = now(), updated_at = now()
     RETURNING epoch`,
    [shardId, pod],
  );
  return Number(rows[0]?.epoch);
}

/** The current owner and epoch of each of `shardIds` (shards never taken are absent). */
export async function currentEpochs(db: Queryable, shardIds: readonly number[]): Promise<Map<number, { pod: string; epoch: number }>> {
  if (shardIds.length === 0) return new Map();
  const { rows } = await db.query<{ shard_id: number; owner_pod: string; epoch: string }>(
    'SELECT shard_id, owner_pod, epoch FROM shard_owners WHERE shard_id = ANY($1::int[])',
    [shardIds],
  );
  return new Map(rows.map((r) => [Number(r.shard_id), { pod: r.owner_pod, epoch: Number(r.epoch) }]));
}
