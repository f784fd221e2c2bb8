/**
 * This pod's shards. Every tick (SHARD_LEASE_MS / 3) it heartbeats into the pod registry,
 * computes the desired owner of every shard (rendezvous over live, non-draining pods plus
 * operator overrides; right after a Redis outage the pods of the last view before it count
 * as live for a grace period, podView.ts), renews the leases it holds, hands off shards
 * desired elsewhere and takes free shards desired here.
 *
 * A shard's lifecycle (every transition is logged at debug; the pod's ownership as one
 * summary line at info, ./ownershipLog.ts):
 *   ACQUIRING ──lease + epoch bump──▶ OWNED ──desired elsewhere / SIGTERM──▶ DRAINING ──▶ RELEASED
 *        └──lease taken by another──▶ RELEASED        OWNED ──lease held by another / fenced──▶ RELEASED
 *   OWNED ──deadline passed (Redis unreachable)──▶ SUSPENDED ──lease re-taken, epoch still ours──▶ OWNED
 *                                                  SUSPENDED ──lease or epoch someone else's / SIGTERM──▶ RELEASED
 * OWNED shards are served; DRAINING shards refuse new calls (SHARD_MOVING) but let the
 * in-flight commit finish, snapshot and stop their actors, then release the lease.
 * SUSPENDED shards refuse new calls too but keep their actors, so the pod can serve them
 * again under the same epoch. Renewal, the local lease deadline (a monotonic clock) and
 * suspension live in ./leaseKeeper.ts; this module owns the table of held shards and
 * every transition.
 * Voluntary hand-offs are rate-limited per tick so pods joining or leaving do not start a
 * recovery storm; taking a free shard is not (recovery is lazy, per event).
 *
 * A planned hand-off is a pause for callers, not an error (the router waits for the new
 * owner, src/shards/router.ts), so it is kept short: a pod that starts draining or releases
 * a lease nudges every pod (`ShardNudges`), which ticks at once instead of at its next
 * interval, and the desired owner takes the freed shard within a round trip.
 * Readiness: `status()` is 'starting' until the first assignment has settled (every shard
 * desired here is OWNED here), so a joining pod takes traffic only once it serves its share.
 * Time comes from an injected Clock (tests drive it by hand).
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../actors/runtime/clock.js';
import type { Queryable } from '../db/pool.js';
import { desiredOwners } from './assignment.js';
import { takeEpoch } from './epochs.js';
import { LeaseKeeper, type Held } from './leaseKeeper.js';
import type { LeaseStore } from './leases.js';
import type { PodInfo, PodRegistry } from './podRegistry.js';
import { FirstAssignment } from './firstAssignment.js';
import { PodView } from './podView.js';
import { TickLoop } from './tickLoop.js';
import { OwnershipLog } from './ownershipLog.js';
import type { RoutingView, ShardHooks, ShardManagerOptions, ShardOwnerEntry, ShardState } from './shardTypes.js';

export type { RoutingView, ShardHooks, ShardManagerOptions, ShardNudges } from './shardTypes.js';

export class ShardManager implements RoutingView {
  private readonly held = new Map<number, Held>();
  private owners: (string | null)[] = [];
  private pods = new Map<string, PodInfo>();
  private started = false;
  private readonly loop: TickLoop;
  private readonly readiness: FirstAssignment;
  private readonly summaries: OwnershipLog;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly keeper: LeaseKeeper;
  private readonly view: PodView;
  private readonly clock: Clock;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly leases: LeaseStore,
    private readonly registry: PodRegistry,
    private readonly hooks: ShardHooks,
    private readonly options: ShardManagerOptions,
    private readonly log: Logger,
  ) {
    this.clock = options.clock ?? systemClock;
    this.keeper = new LeaseKeeper({
      pod: options.pod.name,
      leaseMs: options.leaseMs,
      clock: this.clock,
      leases,
      db,
      log,
      held: this.held,
      transition: (shard, next) => this.set(shard, next),
      lose: (shard, reason) => this.lose(shard, reason),
      renewFailed: (shard) => this.hooks.renewFailed?.(shard),
    });
    this.view = new PodView(options.leaseMs, () => this.clock.monotonic());
    const tickMs = Math.max(100, Math.floor(options.leaseMs / 3));
    this.loop = new TickLoop(() => this.runTick(), this.clock, tickMs, log);
    // Hand-offs spread over consecutive ticks: settled means no change for one and a half.
    this.summaries = new OwnershipLog(this.clock, Math.floor(tickMs * 1.5), log, options.pod.name, () => this.ownedShards());
    this.readiness = new FirstAssignment(this.clock, 3 * options.leaseMs, log, options.pod.name);
  }

  private readonly isOwned = (shard: number) => this.held.get(shard)?.state === 'OWNED';

  private set(shardId: number, next: ShardState, held?: Held): void {
    const current = this.held.get(shardId);
    const from = current?.state ?? 'NONE';
    if (next === 'RELEASED') this.held.delete(shardId);
    else if (held) this.held.set(shardId, held);
    else if (current) current.state = next;
    this.log.debug({ shard: shardId, from, to: next, pod: this.options.pod.name }, 'shard state');
    this.hooks.transition?.(shardId, from, next);
    if (from === 'OWNED' || next === 'OWNED') this.summaries.changed();
  }

  epochFor(shardId: number): number | undefined {
    const h = this.held.get(shardId);
    if (!h || (h.state !== 'OWNED' && h.state !== 'DRAINING')) return undefined;
    return this.keeper.inTime(h) ? h.epoch : undefined;
  }

  serves(shardId: number): boolean {
    const h = this.held.get(shardId);
    return h?.state === 'OWNED' && this.keeper.inTime(h);
  }

  /** True while this pod is taking the shard (lease taken, epoch being bumped): it serves in a moment. */
  acquiring(shardId: number): boolean {
    return this.held.get(shardId)?.state === 'ACQUIRING';
  }

  ownerOf(shardId: number): { pod: string; address: string } | undefined {
    const pod = this.owners[shardId];
    const info = pod ? this.pods.get(pod) : undefined;
    return pod && info ? { pod, address: info.address } : undefined;
  }

  /**
   * Every shard's owner as this pod last saw it (the lease holder, refreshed every tick) with
   * the public gRPC address its registry entry announces; pod null while nobody holds the lease.
   */
  ownerMap(): ShardOwnerEntry[] {
    return Array.from({ length: this.options.shardCount }, (_, shard) => {
      const pod = this.owners[shard] ?? null;
      return { shard, pod, grpc: pod === null ? undefined : this.pods.get(pod)?.grpc };
    });
  }

  fenced(shardId: number): void {
    this.lose(shardId, 'epoch moved on (another pod took the shard)');
  }

  /**
   * For /ready: 'starting' until the first assignment has settled (every shard desired here
   * is served here; at most three lease periods after start), 'ok' from then until shutdown.
   */
  status(): string {
    if (this.stopping) return 'draining';
    return this.started && this.readiness.isSettled() ? 'ok' : 'starting';
  }

  /** The gRPC address other pods forward to (known once the server is bound). */
  setAddress(address: string): void {
    this.options.pod.address = address;
  }

  ownedShards(): number[] {
    return [...this.held.entries()].filter(([, h]) => h.state === 'OWNED').map(([s]) => s).sort((a, b) => a - b);
  }

  private refreshing: Promise<void> | undefined;

  /** Re-read lease owners and pods; concurrent callers (waiting calls) share one read. */
  refresh(): Promise<void> {
    if (this.options.redisUp?.() === false) return Promise.reject(new Error('redis is unreachable: shard map not refreshed'));
    this.refreshing ??= (async () => {
      try {
        const [owners, pods] = await Promise.all([this.leases.owners(this.options.shardCount), this.registry.live(this.options.leaseMs)]);
        this.owners = owners;
        this.pods = new Map(pods.map((p) => [p.name, p]));
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Run the first tick (so a lone pod owns its shards when start() returns), then every leaseMs/3. */
  async start(): Promise<void> {
    this.readiness.start();
    await this.tick();
    this.started = true;
    this.summaries.summary('start');
    this.nudge(); // a pod joining: the others hand its share over now, not at their next tick
    this.unsubscribe = this.options.nudges?.subscribe(() => {
      if (!this.stopping) void this.tick();
    });
    this.loop.start();
  }

  /** Nudge every pod to tick now (a hand-off started or a lease was freed). */
  private nudge(): void {
    this.options.nudges?.announce();
  }

  /** Tick now (or once more after the tick in flight). */
  tick(): Promise<void> {
    return this.loop.tick();
  }

  private async runTick(): Promise<void> {
    try {
      await this.runTickOnce();
    } catch (err) {
      this.view.markUnreachable();
      throw err;
    }
  }

  private async runTickOnce(): Promise<void> {
    const { name, address } = this.options.pod;
    this.keeper.suspendOverdue();
    const registeredAnew = await this.registry.heartbeat({ name, address, draining: this.stopping });
    const [live, drained, overrides] = await Promise.all([
      this.registry.live(this.options.leaseMs),
      this.registry.drained(),
      this.registry.overrides(),
    ]);
    const { pods, graceStarted } = this.view.update(live, registeredAnew && this.started);
    const missing = graceStarted ? pods.filter((p) => !live.some((l) => l.name === p.name)).map((p) => p.name) : [];
    if (missing.length > 0) this.log.info({ missing, grace_ms: this.options.leaseMs }, 'registry incomplete after a Redis outage: waiting for pods to reappear');
    this.pods = new Map(pods.map((p) => [p.name, p]));
    const eligible = pods.filter((p) => !p.draining && !drained.has(p.name)).map((p) => p.name);
    const desired = desiredOwners(this.options.shardCount, eligible, overrides);
    await this.keeper.renewAll();
    this.owners = await this.leases.owners(this.options.shardCount);

    let handoffs = 0;
    const maxHandoffs = this.options.maxHandoffsPerTick ?? 8;
    for (const [shard, h] of [...this.held]) {
      if (h.state === 'OWNED' && desired[shard] !== name && handoffs < maxHandoffs) {
        handoffs += 1;
        void this.handoff(shard);
      }
    }
    if (this.stopping) return;
    const acquisitions: Promise<void>[] = [];
    for (let shard = 0; shard < this.options.shardCount; shard++) {
      if (desired[shard] === name && !this.held.has(shard) && this.owners[shard] === null) acquisitions.push(this.acquire(shard));
    }
    // The first tick waits (a lone pod owns its shards when start() returns); later ones
    // do not, so a slow epoch bump never holds up heartbeats and renewals.
    if (!this.started) await Promise.all(acquisitions);
    this.readiness.want(desired.flatMap((pod, shard) => (pod === name ? [shard] : [])), this.isOwned);
  }

  private lose(shard: number, reason: string): void {
    if (!this.held.has(shard)) return;
    this.log.warn({ shard, reason }, 'shard lost');
    this.set(shard, 'RELEASED');
    this.hooks.lost(shard);
    // If the lease is still ours (say the epoch was taken by hand), give it up: the desired
    // owner, maybe this pod again, takes it afresh with a new epoch.
    void this.leases.release(shard, this.options.pod.name).catch(() => undefined);
  }

  private async acquire(shard: number): Promise<void> {
    const pending: Held = { state: 'ACQUIRING', epoch: 0, deadline: this.keeper.deadlineAfter(this.clock.monotonic()) };
    this.set(shard, 'ACQUIRING', pending);
    try {
      if (!(await this.leases.acquire(shard, this.options.pod.name, this.options.leaseMs))) {
        this.set(shard, 'RELEASED');
        return;
      }
      this.owners[shard] = this.options.pod.name;
      pending.epoch = await takeEpoch(this.db, shard, this.options.pod.name);
      if (this.held.get(shard) !== pending) return; // lost meanwhile
      this.set(shard, 'OWNED');
      this.readiness.check(this.isOwned);
    } catch (err) {
      this.log.warn({ err, shard }, 'shard acquisition failed');
      await this.leases.release(shard, this.options.pod.name).catch(() => undefined);
      this.set(shard, 'RELEASED');
    }
  }

  /** Drain one shard: refuse new calls, finish the in-flight commit, snapshot, stop actors, release. */
  private async handoff(shard: number): Promise<void> {
    const h = this.held.get(shard);
    if (!h || h.state !== 'OWNED') return;
    const started = this.clock.monotonic();
    this.set(shard, 'DRAINING');
    try {
      await this.hooks.drain(shard);
    } catch (err) {
      this.log.warn({ err, shard }, 'shard drain failed');
    }
    await this.leases.release(shard, this.options.pod.name).catch((err: unknown) => this.log.warn({ err, shard }, 'lease release failed'));
    if (this.held.get(shard) === h) this.set(shard, 'RELEASED');
    this.nudge(); // the desired owner takes it now, not at its next tick
    const seconds = (this.clock.monotonic() - started) / 1000;
    this.hooks.handedOff?.(shard, seconds);
    this.log.debug({ shard, duration_ms: Math.round(seconds * 1000) }, 'shard handed off');
  }

  /** SIGTERM: hand every shard off and leave the registry. A second call waits for the first. */
  stop(): Promise<void> {
    return (this.stopped ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    await this.loop.stop();
    this.summaries.stop();
    const handedOff = this.held.size; // shards held when shutdown began, each handed off or given up
    await this.registry.heartbeat({ name: this.options.pod.name, address: this.options.pod.address, draining: true }).catch(() => undefined);
    this.nudge(); // the others compute their new shares now
    for (const [shard, h] of [...this.held]) if (h.state === 'SUSPENDED') this.lose(shard, 'shutting down while suspended');
    await Promise.all([...this.held.keys()].map((shard) => this.handoff(shard)));
    await this.registry.remove(this.options.pod.name).catch(() => undefined);
    this.summaries.summary('shutdown', { released: handedOff });
  }
}
