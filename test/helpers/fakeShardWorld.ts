/**
 * In-memory stand-ins for what ShardManager talks to: Redis (leases and the pod registry,
 * which each pod can find unreachable on its own, and which can be wiped as a Redis restart
 * without persistence does) and Postgres `shard_owners` (epochs). For unit tests of the
 * ownership rules without servers.
 */
import { pino } from 'pino';
import type { Queryable } from '../../src/db/pool.js';
import type { LeaseStore } from '../../src/shards/leases.js';
import type { PodInfo, PodRegistry } from '../../src/shards/podRegistry.js';
import { ShardManager, type ShardHooks, type ShardNudges } from '../../src/shards/shardManager.js';
import type { Clock } from '../../actors/runtime/clock.js';

export class FakeShardWorld {
  /** Nudges between the world's pods (in process, delivered at once). */
  private readonly nudged = new Set<() => void>();
  readonly nudges: ShardNudges = {
    announce: () => this.nudged.forEach((fn) => fn()),
    subscribe: (fn) => {
      this.nudged.add(fn);
      return () => void this.nudged.delete(fn);
    },
  };

  /** `now`: the wall clock leases expire by (a fake clock's in tests that move time by hand). */
  constructor(private readonly now: () => number = Date.now) {}

  readonly leases = new Map<number, { pod: string; expiresAt: number }>();
  readonly pods = new Map<string, PodInfo>();
  readonly epochs = new Map<number, { pod: string; epoch: number }>();
  /** Every successful lease acquisition (SET NX), in order. */
  readonly acquisitions: Array<{ shard: number; pod: string }> = [];
  /** Pods for which Redis is unreachable. */
  readonly cutOff = new Set<string>();
  /** Operator overrides (`ticketctl shards move`): shard → pod. */
  readonly overrides = new Map<number, string>();

  /** Redis restarted without persistence: leases and registry gone. */
  wipeRedis(): void {
    this.leases.clear();
    this.pods.clear();
  }

  private holder(shard: number): string | null {
    const lease = this.leases.get(shard);
    if (!lease) return null;
    if (lease.expiresAt <= this.now()) {
      this.leases.delete(shard);
      return null;
    }
    return lease.pod;
  }

  private reach(pod: string): void {
    if (this.cutOff.has(pod)) throw new Error(`redis unreachable from ${pod}`);
  }

  leaseStore(self: string): LeaseStore {
    return {
      acquire: async (shard, pod, ttlMs) => {
        this.reach(self);
        if (this.holder(shard) !== null) return false;
        this.leases.set(shard, { pod, expiresAt: this.now() + ttlMs });
        this.acquisitions.push({ shard, pod });
        return true;
      },
      renew: async (shard, pod, ttlMs, retake = false) => {
        this.reach(self);
        const holder = this.holder(shard);
        if (holder !== pod && !(holder === null && retake)) return 'lost';
        this.leases.set(shard, { pod, expiresAt: this.now() + ttlMs });
        return holder === pod ? 'renewed' : 'retaken';
      },
      release: async (shard, pod) => {
        this.reach(self);
        if (this.holder(shard) !== pod) return false;
        this.leases.delete(shard);
        return true;
      },
      owners: async (count) => {
        this.reach(self);
        return Array.from({ length: count }, (_, s) => this.holder(s));
      },
    };
  }

  registry(self: string): PodRegistry {
    return {
      heartbeat: async (p) => {
        this.reach(self);
        const added = !this.pods.has(p.name);
        this.pods.set(p.name, { ...p, heartbeatAt: this.now() });
        return added;
      },
      live: async (ttlMs) => {
        this.reach(self);
        for (const [name, p] of this.pods) if (this.now() - p.heartbeatAt > ttlMs) this.pods.delete(name);
        return [...this.pods.values()].sort((a, b) => a.name.localeCompare(b.name));
      },
      remove: async (name) => {
        this.pods.delete(name);
      },
      overrides: async () => new Map(this.overrides),
      setOverride: async () => undefined,
      clearOverrides: async () => undefined,
      drained: async () => new Set(),
      setDrained: async () => undefined,
    };
  }

  /** `shard_owners` as ShardManager queries it: the epoch bump and the read-back. */
  db(): Queryable {
    const query = async (sql: string, params: unknown[]) => {
      if (sql.includes('INSERT INTO shard_owners')) {
        const [shard, pod] = params as [number, string];
        const epoch = (this.epochs.get(shard)?.epoch ?? 0) + 1;
        this.epochs.set(shard, { pod, epoch });
        return { rows: [{ epoch: String(epoch) }] };
      }
      const [shards] = params as [number[]];
      return { rows: shards.flatMap((s) => { const e = this.epochs.get(s); return e ? [{ shard_id: s, owner_pod: e.pod, epoch: String(e.epoch) }] : []; }) };
    };
    return { query } as unknown as Queryable;
  }

  /** A ShardManager for `name` on this world, with hooks that count what happened. */
  manager(name: string, shardCount: number, leaseMs: number, extra: { clock?: Clock; nudges?: boolean } = {}) {
    const events = { drained: [] as number[], lost: [] as number[] };
    const hooks: ShardHooks = {
      drain: async (shard) => void events.drained.push(shard),
      lost: (shard) => void events.lost.push(shard),
    };
    const manager = new ShardManager(this.db(), this.leaseStore(name), this.registry(name), hooks, { pod: { name, address: `${name}:1` }, shardCount, leaseMs, clock: extra.clock, nudges: extra.nudges ? this.nudges : undefined }, pino({ level: 'silent' }));
    return { manager, events };
  }
}
