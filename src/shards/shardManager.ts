/**
 * This pod's shards. Every tick (SHARD_LEASE_MS / 3) it heartbeats into the pod registry,
 * computes the desired owner of every shard (rendezvous over live, non-draining pods plus
 * operator overrides), renews the leases it holds, hands off shards desired elsewhere and
 * takes free shards desired here.
 *
 * A shard's lifecycle (every transition is logged):
 *   ACQUIRING ──lease + epoch bump──▶ OWNED ──desired elsewhere / SIGTERM──▶ DRAINING ──▶ RELEASED
 *        └──lease taken by another──▶ RELEASED        OWNED ──renewal failed / deadline──▶ RELEASED
 * OWNED shards are served; DRAINING shards refuse new calls (SHARD_MOVING) but let the
 * in-flight commit finish, snapshot and stop their actors, then release the lease.
 * The lease is timed with a monotonic clock: a shard stops being served at
 * `renewedAt + leaseMs − safetyMs` even if no renewal result ever comes back.
 * Voluntary hand-offs are rate-limited per tick so pods joining or leaving do not start a
 * recovery storm; taking a free shard is not (recovery is lazy, per event).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Queryable } from '../db/pool.js';
import { desiredOwners } from './assignment.js';
import type { LeaseStore } from './leases.js';
import type { PodInfo, PodRegistry } from './podRegistry.js';

export type ShardState = 'ACQUIRING' | 'OWNED' | 'DRAINING' | 'RELEASED';

interface Held {
  state: ShardState;
  epoch: number;
  /** performance.now() after which the shard must not be served. */
  deadline: number;
}

export interface ShardManagerOptions {
  readonly pod: { readonly name: string; address: string };
  readonly shardCount: number;
  readonly leaseMs: number;
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

export class ShardManager implements RoutingView {
  private readonly held = new Map<number, Held>();
  private owners: (string | null)[] = [];
  private pods = new Map<string, PodInfo>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopping = false;
  private readonly safetyMs: number;

  constructor(
    private readonly db: Queryable,
    private readonly leases: LeaseStore,
    private readonly registry: PodRegistry,
    private readonly hooks: ShardHooks,
    private readonly options: ShardManagerOptions,
    private readonly log: Logger,
  ) {
    this.safetyMs = Math.max(200, Math.floor(options.leaseMs / 10));
  }

  private set(shardId: number, next: ShardState, held?: Held): void {
    const current = this.held.get(shardId);
    const from = current?.state ?? 'NONE';
    if (next === 'RELEASED') this.held.delete(shardId);
    else if (held) this.held.set(shardId, held);
    else if (current) current.state = next;
    this.log.info({ shard: shardId, from, to: next, pod: this.options.pod.name }, 'shard state');
    this.hooks.transition?.(shardId, from, next);
  }

  epochFor(shardId: number): number | undefined {
    const h = this.held.get(shardId);
    if (!h || (h.state !== 'OWNED' && h.state !== 'DRAINING')) return undefined;
    return performance.now() < h.deadline ? h.epoch : undefined;
  }

  serves(shardId: number): boolean {
    const h = this.held.get(shardId);
    return h?.state === 'OWNED' && performance.now() < h.deadline;
  }

  ownerOf(shardId: number): { pod: string; address: string } | undefined {
    const pod = this.owners[shardId];
    const info = pod ? this.pods.get(pod) : undefined;
    return pod && info ? { pod, address: info.address } : undefined;
  }

  fenced(shardId: number): void {
    this.lose(shardId, 'epoch moved on (another pod took the shard)');
  }

  /** For /ready: 'ok' once the first tick ran and until shutdown. */
  status(): string {
    if (this.stopping) return 'draining';
    return this.timer ? 'ok' : 'starting';
  }

  /** The gRPC address other pods forward to (known once the server is bound). */
  setAddress(address: string): void {
    this.options.pod.address = address;
  }

  ownedShards(): number[] {
    return [...this.held.entries()].filter(([, h]) => h.state === 'OWNED').map(([s]) => s).sort((a, b) => a - b);
  }

  async refresh(): Promise<void> {
    const [owners, pods] = await Promise.all([this.leases.owners(this.options.shardCount), this.registry.live(this.options.leaseMs)]);
    this.owners = owners;
    this.pods = new Map(pods.map((p) => [p.name, p]));
  }

  /** Run the first tick (so a lone pod owns its shards when start() returns), then every leaseMs/3. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref();
  }

  tick(): Promise<void> {
    this.ticking ??= this.runTick()
      .catch((err: unknown) => this.log.warn({ err }, 'shard tick failed'))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const { name, address } = this.options.pod;
    // Past its local deadline a shard is already unserved; make that official.
    for (const [shard, h] of this.held) {
      if (h.state === 'OWNED' && performance.now() >= h.deadline) this.lose(shard, 'lease deadline passed');
    }
    await this.registry.heartbeat({ name, address, draining: this.stopping });
    const [pods, drained, overrides] = await Promise.all([
      this.registry.live(this.options.leaseMs),
      this.registry.drained(),
      this.registry.overrides(),
    ]);
    this.pods = new Map(pods.map((p) => [p.name, p]));
    const eligible = pods.filter((p) => !p.draining && !drained.has(p.name)).map((p) => p.name);
    const desired = desiredOwners(this.options.shardCount, eligible, overrides);
    await this.renewAll();
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
    if (!this.timer) await Promise.all(acquisitions);
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held].map(async ([shard, h]) => {
        if (h.state !== 'OWNED' && h.state !== 'DRAINING') return;
        const started = performance.now();
        try {
          if (await this.leases.renew(shard, this.options.pod.name, this.options.leaseMs)) {
            h.deadline = started + this.options.leaseMs - this.safetyMs;
          } else {
            this.hooks.renewFailed?.(shard);
            this.lose(shard, 'lease held by another pod');
          }
        } catch (err) {
          this.hooks.renewFailed?.(shard);
          this.log.warn({ err, shard }, 'lease renewal failed'); // the deadline keeps counting down
        }
      }),
    );
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
    const started = performance.now();
    const pending: Held = { state: 'ACQUIRING', epoch: 0, deadline: started + this.options.leaseMs - this.safetyMs };
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
    } catch (err) {
      this.log.warn({ err, shard }, 'shard acquisition failed');
      await this.leases.release(shard, this.options.pod.name).catch(() => undefined);
      this.set(shard, 'RELEASED');
    }
  }

  /** Drain one shard: refuse new calls, finish the in-flight commit, snapshot, stop actors, release. */
  async handoff(shard: number): Promise<void> {
    const h = this.held.get(shard);
    if (!h || h.state !== 'OWNED') return;
    const started = performance.now();
    this.set(shard, 'DRAINING');
    try {
      await this.hooks.drain(shard);
    } catch (err) {
      this.log.warn({ err, shard }, 'shard drain failed');
    }
    await this.leases.release(shard, this.options.pod.name).catch((err: unknown) => this.log.warn({ err, shard }, 'lease release failed'));
    if (this.held.get(shard) === h) this.set(shard, 'RELEASED');
    const seconds = (performance.now() - started) / 1000;
    this.hooks.handedOff?.(shard, seconds);
    this.log.info({ shard, duration_ms: Math.round(seconds * 1000) }, 'shard handed off');
  }

  /** SIGTERM: hand every shard off and leave the registry. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.ticking;
    await this.registry.heartbeat({ name: this.options.pod.name, address: this.options.pod.address, draining: true }).catch(() => undefined);
    await Promise.all([...this.held.keys()].map((shard) => this.handoff(shard)));
    await this.registry.remove(this.options.pod.name).catch(() => undefined);
  }
}
