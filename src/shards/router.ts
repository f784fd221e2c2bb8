/**
 * Routing of inventory commands: the owner's local actor, or one forward to the owner.
 * Any pod accepts any call. If the owner answers SHARD_MOVING (or cannot be reached), the
 * map is refreshed and the call retried once; then the caller gets the retryable error.
 */
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { AppError, DependencyError } from '../errors.js';
import type { Forwarder } from './forwarding.js';
import type { RoutingView } from './shardManager.js';
import { shardOf } from './shardOf.js';

/** Who a command is run for, passed on when it is forwarded to the owner. */
export interface Caller {
  /** The caller's `authorization`: the owner checks the same token. */
  readonly authorization?: string;
  /** Epoch ms by which the caller wants an answer (its gRPC deadline). */
  readonly deadline?: number;
  /** Aborted when the caller goes away (its call was cancelled). */
  readonly signal?: AbortSignal;
}

export type Route = (eventId: string, cmd: InventoryCommand, caller?: Caller) => Promise<InventoryReply>;

export interface RouterOptions {
  readonly routing: RoutingView;
  readonly forwarder: Forwarder;
  readonly shardCount: number;
  readonly podName: string;
  /** Run on this pod's actor (only called for shards this pod serves). */
  readonly local: Route;
  /** Observe forwards to another pod (metrics). */
  readonly onForward?: (outcome: 'ok' | 'error') => void;
}

const moving = (shard: number, owner?: string) =>
  new AppError('SHARD_MOVING', `shard ${shard} is moving${owner ? ` (owner ${owner})` : ''}; retry`, {
    shard_id: shard,
    ...(owner ? { owner } : {}),
  });

export function createRouter(o: RouterOptions): { route: Route; serveLocally: Route } {
  /** Owner side: refuse unless this pod serves the shard now. */
  const serveLocally: Route = async (eventId, cmd) => {
    const shard = shardOf(eventId, o.shardCount);
    if (!o.routing.serves(shard)) throw moving(shard, o.routing.ownerOf(shard)?.pod);
    return o.local(eventId, cmd);
  };

  const forwardOnce: Route = async (eventId, cmd, caller) => {
    const shard = shardOf(eventId, o.shardCount);
    if (o.routing.serves(shard)) return o.local(eventId, cmd);
    const owner = o.routing.ownerOf(shard);
    if (!owner || owner.pod === o.podName) throw moving(shard, owner?.pod);
    try {
      const reply = await o.forwarder.forward(owner.address, eventId, cmd, caller);
      o.onForward?.('ok');
      return reply;
    } catch (err) {
      o.onForward?.('error');
      throw err;
    }
  };

  const route: Route = async (eventId, cmd, caller) => {
    try {
      return await forwardOnce(eventId, cmd, caller);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'SHARD_MOVING') throw err;
    }
    if (caller?.signal?.aborted) throw new AppError('CANCELLED', 'the caller cancelled');
    if (caller?.deadline !== undefined && Date.now() >= caller.deadline) throw new AppError('DEADLINE_EXCEEDED', 'the caller\'s deadline passed');
    // Without Redis the map cannot be refreshed: a retryable DEPENDENCY, not an INTERNAL error.
    await o.routing.refresh().catch((err: unknown) => {
      throw new DependencyError('redis', err);
    });
    return forwardOnce(eventId, cmd, caller);
  };
  return { route, serveLocally };
}
