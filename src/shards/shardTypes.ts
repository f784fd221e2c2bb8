/** The contracts around a pod's shard ownership: what actors, routers and hooks see. */

/**
 * A shard's state on this pod. SUSPENDED: its lease could not be renewed before the local
 * deadline (Redis unreachable); it is not served and its actors wait, so the pod can take
 * it back under the same epoch once Redis answers and nobody else took it.
 */
export type ShardState = 'ACQUIRING' | 'OWNED' | 'SUSPENDED' | 'DRAINING' | 'RELEASED';

export interface ShardManagerOptions {
  readonly pod: { readonly name: string; address: string };
  readonly shardCount: number;
  readonly leaseMs: number;
  /** False while Redis is known down: routing refreshes then fail at once. */
  readonly redisUp?: () => boolean;
  /** Voluntary hand-offs started per tick at most. */
  readonly maxHandoffsPerTick?: number;
}

export interface ShardHooks {
  /** Finish in-flight work, snapshot and stop the shard's actors (hand-off). */
  drain(shardId: number): Promise<void>;
  /** Drop the shard's actors without persisting anything (ownership lost). */
  lost(shardId: number): void;
  /** Observe transitions, renewal failures and hand-off times (metrics). */
  transition?(shardId: number, from: ShardState | 'NONE', to: ShardState): void;
  renewFailed?(shardId: number): void;
  handedOff?(shardId: number, seconds: number): void;
}

/** What an actor's commit needs: the fencing epoch this pod holds for a shard. */
export interface ShardOwnership {
  /** The epoch this pod holds for `shardId`, or undefined when it does not own it. */
  epochFor(shardId: number): number | undefined;
  /** A commit or fence check found a newer epoch: the shard is someone else's now. */
  fenced?(shardId: number): void;
}

export interface RoutingView extends ShardOwnership {
  /** True when this pod serves new calls for the shard now. */
  serves(shardId: number): boolean;
  /** The pod holding the shard's lease (last seen), and its address. */
  ownerOf(shardId: number): { readonly pod: string; readonly address: string } | undefined;
  /** Re-read leases and pods now (after a SHARD_MOVING answer). */
  refresh(): Promise<void>;
  ownedShards(): number[];
}
