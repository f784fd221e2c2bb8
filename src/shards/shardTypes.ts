/** The contracts around a pod's shard ownership: what actors, routers and hooks see. */
import type { ShardOwnership } from '../../actors/inventory/actorPorts.js';
import type { Clock } from '../../actors/runtime/clock.js';

/** What an actor's commit needs (declared beside the actor). */
export type { ShardOwnership };

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
  /** Time and timers (default: the system clock). */
  readonly clock?: Clock;
  /** Tells every pod to tick now (hand-offs); optional: without it pods notice at their next tick. */
  readonly nudges?: ShardNudges;
}

/** A broadcast between pods that shard ownership is changing (Redis pub/sub in the service). */
export interface ShardNudges {
  /** Ask every pod (this one too) to tick now; fire and forget. */
  announce(): void;
  /** Run `onNudge` on every announcement; returns the unsubscribe. */
  subscribe(onNudge: () => void): () => void;
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

export interface RoutingView extends ShardOwnership {
  /** True while this pod is taking the shard over (it serves it in a moment). */
  acquiring(shardId: number): boolean;
  /** The pod holding the shard's lease (last seen), and its address. */
  ownerOf(shardId: number): { readonly pod: string; readonly address: string } | undefined;
  /** Re-read leases and pods now (after a SHARD_MOVING answer). */
  refresh(): Promise<void>;
  ownedShards(): number[];
}

/** One shard's owner as a pod last saw it, for clients that route calls themselves (GetShardMap). */
export interface ShardOwnerEntry {
  readonly shard: number;
  /** The pod holding the shard's lease; null while none does (the shard is moving). */
  readonly pod: string | null;
  /** host:port of that pod's public gRPC port, as its heartbeat announces it. */
  readonly grpc: string | undefined;
}
