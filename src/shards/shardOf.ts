/**
 * Events map to shards by a stable hash of the event id (FNV-1a, 32 bit, over the
 * lower-cased UUID text), so every pod computes the same shard without coordination, and
 * so can clients in any language (docs/shards.md spells it out with a worked example).
 */

/** The hash's name as GetShardMap reports it. */
export const SHARD_HASH = 'fnv1a-32';

export function shardOf(eventId: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  const text = eventId.toLowerCase();
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}
