/**
 * Routing of inventory commands: the owner's local actor, or one forward to the owner.
 * Any pod accepts any call.
 *
 * A planned hand-off is a pause, not an error (as in Akka Cluster Sharding): when the shard
 * is moving — this pod is draining it or still taking it over, the owner answers
 * SHARD_MOVING, or the owner cannot be reached — the call waits and is then delivered to the
 * new owner. While it waits the map is re-read (one shared read for all waiting calls) with
 * a short back-off. The wait is bounded by the caller's deadline (the answer leaves a little
 * before it), by SHARD_HANDOFF_WAIT_MS, and to UNREADABLE_WAIT_MS while the map cannot be
 * read at all (Redis unreachable: DEPENDENCY); past it the caller gets the retryable
 * SHARD_MOVING. Only a command the old owner did not run is retried: SHARD_MOVING means
 * "not served here", and a lost answer is retried only with commands that are idempotent
 * by their ids (every inventory command is).
 */
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { sleep, systemClock, type Clock } from '../../actors/runtime/clock.js';
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
  /** True once the caller went away; where it is given, checked instead of `signal` (which may be built on first use). */
  readonly cancelled?: boolean;
}

export type Route = (eventId: string, cmd: InventoryCommand, caller?: Caller) => Promise<InventoryReply>;

/** How long a call waits for a moving shard by default (SHARD_HANDOFF_WAIT_MS). */
export const DEFAULT_HANDOFF_WAIT_MS = 3000;
/** A waiting call answers this long before its caller's deadline, so the answer arrives in time. */
export const DEADLINE_MARGIN_MS = 250;
/**
 * While the map cannot be read (Redis unreachable) a call waits at most this long: no shard
 * changes hands without Redis (the leases live there), so a longer wait could only end in
 * the same DEPENDENCY answer, and on a starved machine arrive after the caller's deadline.
 */
export const UNREADABLE_WAIT_MS = 1000;
/** Back-off between looks at the map while a shard moves: 10, 20, 40 … at most 100 ms. */
const FIRST_RETRY_MS = 10;
const MAX_RETRY_MS = 100;

export interface RouterOptions {
  readonly routing: RoutingView;
  readonly forwarder: Forwarder;
  readonly shardCount: number;
  readonly podName: string;
  /** Run on this pod's actor (only called for shards this pod serves). */
  readonly local: Route;
  /** Observe forwards to another pod (metrics). */
  readonly onForward?: (outcome: 'ok' | 'error') => void;
  /** The longest a call waits for a moving shard (default DEFAULT_HANDOFF_WAIT_MS). */
  readonly handoffWaitMs?: number;
  /** Observe calls that had to wait for a moving shard: delivered after the wait, or not (metrics). */
  readonly onHandoffWait?: (outcome: 'delivered' | 'moving', waitedMs: number) => void;
  readonly clock?: Clock;
}

const moving = (shard: number, owner?: string) =>
  new AppError('SHARD_MOVING', `shard ${shard} is moving${owner ? ` (owner ${owner})` : ''}; retry`, {
    shard_id: shard,
    ...(owner ? { owner } : {}),
  });

const isMoving = (err: unknown): err is AppError => err instanceof AppError && err.code === 'SHARD_MOVING';

export function createRouter(o: RouterOptions): { route: Route; serveLocally: Route } {
  const clock = o.clock ?? systemClock;
  const waitMs = o.handoffWaitMs ?? DEFAULT_HANDOFF_WAIT_MS;

  /** Epoch ms until which a call may wait for a moving shard. */
  const waitUntil = (caller?: Caller) => Math.min(clock.now() + waitMs, (caller?.deadline ?? Infinity) - DEADLINE_MARGIN_MS);

  function checkCaller(caller?: Caller): void {
    if (caller?.cancelled ?? caller?.signal?.aborted) throw new AppError('CANCELLED', 'the caller cancelled');
    if (caller?.deadline !== undefined && clock.now() >= caller.deadline) throw new AppError('DEADLINE_EXCEEDED', 'the caller\'s deadline passed');
  }

  /**
   * Owner side (a call forwarded here): run it if this pod serves the shard; while this pod
   * is taking the shard over, wait for it (briefly); otherwise SHARD_MOVING, and the
   * forwarding pod waits for the new owner.
   */
  const serveLocally: Route = async (eventId, cmd, caller) => {
    const shard = shardOf(eventId, o.shardCount);
    const until = waitUntil(caller);
    for (let pause = FIRST_RETRY_MS; !o.routing.serves(shard) && o.routing.acquiring(shard) && clock.now() < until; pause = Math.min(pause * 2, MAX_RETRY_MS)) {
      await sleep(clock, Math.min(pause, until - clock.now()));
    }
    if (!o.routing.serves(shard)) throw moving(shard, o.routing.ownerOf(shard)?.pod);
    return o.local(eventId, cmd, caller);
  };

  const forwardOnce: Route = async (eventId, cmd, caller) => {
    const shard = shardOf(eventId, o.shardCount);
    if (o.routing.serves(shard)) return o.local(eventId, cmd, caller);
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
    let started: number | undefined;
    /** The last map read failed (Redis unreachable): past the wait that is the caller's answer. */
    let unreadable: unknown;
    /** Since when the map has been unreadable (reads failing one after another). */
    let unreadableSince: number | undefined;
    for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, MAX_RETRY_MS)) {
      try {
        const reply = await forwardOnce(eventId, cmd, caller);
        if (started !== undefined) o.onHandoffWait?.('delivered', clock.now() - started);
        return reply;
      } catch (err) {
        if (!isMoving(err)) throw err;
        started ??= clock.now();
        checkCaller(caller);
        const until = Math.min(started + waitMs, (caller?.deadline ?? Infinity) - DEADLINE_MARGIN_MS, (unreadableSince ?? Infinity) + UNREADABLE_WAIT_MS);
        if (clock.now() >= until) {
          o.onHandoffWait?.('moving', clock.now() - started);
          // Without Redis the map cannot be read: a retryable DEPENDENCY, not an INTERNAL error.
          if (unreadable !== undefined) throw new DependencyError('redis', unreadable);
          throw err;
        }
        await sleep(clock, Math.min(pause, until - clock.now()));
        checkCaller(caller);
      }
      // A failed read (Redis briefly unreachable) does not end the wait: the next look may succeed.
      unreadable = await o.routing.refresh().then(
        () => undefined,
        (err: unknown) => err ?? new Error('shard map unreadable'),
      );
      unreadableSince = unreadable === undefined ? undefined : (unreadableSince ?? clock.now());
    }
  };
  return { route, serveLocally };
}
