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

/** `authorization`: the caller's, passed on when the command is forwarded to the owner. */
export type Route = (eventId: string, cmd: InventoryCommand, authorization?: string) => Promise<InventoryReply>;

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

  const forwardOnce: Route = async (eventId, cmd, authorization) => {
    const shard = shardOf(eventId, o.shardCount);
    if (o.routing.serves(shard)) return o.local(eventId, cmd);
    const owner = o.routing.ownerOf(shard);
    if (!owner || owner.pod === o.podName) throw moving(shard, owner?.pod);
    try {
      const reply = await o.forwarder.forward(owner.address, eventId, cmd, authorization);
      o.onForward?.('ok');
      return reply;
    } catch (err) {
      o.onForward?.('error');
      throw err;
    }
  };

  const route: Route = async (eventId, cmd, authorization) => {
    try {
      return await forwardOnce(eventId, cmd, authorization);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'SHARD_MOVING') throw err;
    }
    // Without Redis the map cannot be refreshed: a retryable DEPENDENCY, not an INTERNAL error.
    await o.routing.refresh().catch((err: unknown) => {
      throw new DependencyError('redis', err);
    });
    return forwardOnce(eventId, cmd, authorization);
  };
  return { route, serveLocally };
}
