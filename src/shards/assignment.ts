/**
 * Which pod should own each shard: rendezvous (highest-random-weight) hashing over the
 * live, non-draining pods, so a pod joining or leaving moves only ~1/n of the shards.
 * Operator overrides (`ticketctl shards move`) win while their pod is eligible.
 */
import { createHash } from 'node:crypto';

function weight(pod: string, shardId: number): number {
  return createHash('sha1').update(`${pod}\u0000${shardId}`).digest().readUInt32BE(0);
}

export function desiredOwners(shardCount: number, eligiblePods: readonly string[], overrides: ReadonlyMap<number, string>): (string | null)[] {
  const eligible = new Set(eligiblePods);
  return Array.from({ length: shardCount }, (_, shard) => {
    const override = overrides.get(shard);
    if (override !== undefined && eligible.has(override)) return override;
    let best: string | null = null;
    let bestWeight = -1;
    for (const pod of eligiblePods) {
      const w = weight(pod, shard);
      if (w > bestWeight || (w === bestWeight && best !== null && pod < best)) {
        best = pod;
        bestWeight = w;
      }
    }
    return best;
  });
}
