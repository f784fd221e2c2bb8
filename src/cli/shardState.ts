/**
 * The cluster as ticketctl sees it: lease holders and live pods from Redis, the desired
 * owner of every shard computed exactly as the pods compute it (`desiredOwners` over live
 * pods that are neither shutting down nor drained, with operator overrides), and the
 * fencing epochs from Postgres. Pure view-building is separate from the reads so the
 * formatting can be checked without servers.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { sqlstateOf } from '../db/sqlstate.js';
import { desiredOwners } from '../shards/assignment.js';
import { createLeaseStore, type LeaseStore } from '../shards/leases.js';
import { createPodRegistry, type PodInfo, type PodRegistry } from '../shards/podRegistry.js';
import { CliError, describeError } from './db.js';
import { table } from './output.js';
import { loadShardConfig, redisCall, withRedis, type CliShardConfig } from './redis.js';

export type ShardState = 'ok' | 'moving' | 'free';

export interface ShardView {
  readonly shard: number;
  /** Pod holding the Redis lease, null when free. */
  readonly leaseOwner: string | null;
  /** Pod the assignment wants, null when no pod is eligible. */
  readonly desiredOwner: string | null;
  /** Operator override (`shards move`), whether or not it is in effect. */
  readonly override: string | null;
  /** free: no lease; ok: lease owner is the desired owner; moving: otherwise. */
  readonly state: ShardState;
}

export interface PodView {
  readonly name: string;
  /** False for a pod that still holds a lease but no longer heartbeats. */
  readonly live: boolean;
  readonly address: string | null;
  /** The pod's REST base URL, when it announced one. */
  readonly http: string | null;
  readonly heartbeatAt: number | null;
  readonly heartbeatAgeMs: number | null;
  /** The pod announced it is shutting down (its own heartbeat flag). */
  readonly shuttingDown: boolean;
  /** Marked by `ticketctl shards drain` (`pods-draining`). */
  readonly drained: boolean;
  /** Shards whose lease it holds. */
  readonly ownedShards: number;
  /** Shards the assignment wants on it. */
  readonly desiredShards: number;
}

export interface ClusterView {
  readonly shardCount: number;
  readonly shards: readonly ShardView[];
  readonly pods: readonly PodView[];
  readonly overrides: ReadonlyMap<number, string>;
  /** Every pod in `pods-draining`, live or not. */
  readonly drained: ReadonlySet<string>;
}

export interface ClusterInput {
  readonly shardCount: number;
  readonly now: number;
  readonly live: readonly PodInfo[];
  readonly drained: ReadonlySet<string>;
  readonly overrides: ReadonlyMap<number, string>;
  readonly leaseOwners: readonly (string | null)[];
}

/** Pods the assignment may give shards to: live, not shutting down, not drained. */
export function eligiblePods(live: readonly PodInfo[], drained: ReadonlySet<string>): string[] {
  return live.filter((p) => !p.draining && !drained.has(p.name)).map((p) => p.name);
}

export function buildClusterView(input: ClusterInput): ClusterView {
  const desired = desiredOwners(input.shardCount, eligiblePods(input.live, input.drained), input.overrides);
  const shards: ShardView[] = desired.map((desiredOwner, shard) => {
    const leaseOwner = input.leaseOwners[shard] ?? null;
    const state: ShardState = leaseOwner === null ? 'free' : leaseOwner === desiredOwner ? 'ok' : 'moving';
    return { shard, leaseOwner, desiredOwner, override: input.overrides.get(shard) ?? null, state };
  });
  const count = (pick: (s: ShardView) => string | null, name: string) => shards.filter((s) => pick(s) === name).length;
  const pods: PodView[] = input.live.map((p) => ({
    name: p.name,
    live: true,
    address: p.address,
    http: p.http ?? null,
    heartbeatAt: p.heartbeatAt,
    heartbeatAgeMs: Math.max(0, input.now - p.heartbeatAt),
    shuttingDown: p.draining,
    drained: input.drained.has(p.name),
    ownedShards: count((s) => s.leaseOwner, p.name),
    desiredShards: count((s) => s.desiredOwner, p.name),
  }));
  // A pod that stopped heartbeating may still hold leases until they expire: show it.
  const liveNames = new Set(input.live.map((p) => p.name));
  const ghosts = [...new Set(shards.map((s) => s.leaseOwner).filter((o): o is string => o !== null && !liveNames.has(o)))].sort();
  for (const name of ghosts) {
    pods.push({
      name,
      live: false,
      address: null,
      http: null,
      heartbeatAt: null,
      heartbeatAgeMs: null,
      shuttingDown: false,
      drained: input.drained.has(name),
      ownedShards: count((s) => s.leaseOwner, name),
      desiredShards: 0,
    });
  }
  return { shardCount: input.shardCount, shards, pods, overrides: input.overrides, drained: input.drained };
}

/**
 * How long a pod's heartbeat stays valid. The CLI uses the shard lease TTL, the same
 * bound the pods use for "live" (a pod that cannot heartbeat cannot renew leases either).
 */
export const podTtlMs = (leaseMs: number): number => leaseMs;

export interface ClusterSources {
  readonly leases: LeaseStore;
  readonly registry: PodRegistry;
  readonly shardCount: number;
  readonly leaseMs: number;
}

/** Connect to Redis as the service does and hand `fn` the shard stores. */
export async function withShards<T>(fn: (src: ClusterSources, redis: Redis, config: CliShardConfig) => Promise<T>): Promise<T> {
  const config = loadShardConfig();
  return withRedis(config.redis, (redis) =>
    fn(
      { leases: createLeaseStore(redis), registry: createPodRegistry(redis), shardCount: config.shardCount, leaseMs: config.leaseMs },
      redis,
      config,
    ),
  );
}

export async function readCluster(src: ClusterSources): Promise<ClusterView> {
  const [live, drained, overrides, leaseOwners] = await Promise.all([
    redisCall('reading pods', src.registry.live(podTtlMs(src.leaseMs))),
    redisCall('reading drained pods', src.registry.drained()),
    redisCall('reading shard overrides', src.registry.overrides()),
    redisCall('reading shard leases', src.leases.owners(src.shardCount)),
  ]);
  return buildClusterView({ shardCount: src.shardCount, now: Date.now(), live, drained, overrides, leaseOwners });
}

export interface ShardEpoch {
  readonly epoch: number;
  readonly ownerPod: string | null;
  readonly acquiredAt: Date | null;
}

const UNDEFINED_TABLE = '42P01';

/** Postgres `shard_owners` rows by shard (shards never taken have no row). */
export async function readEpochs(client: pg.ClientBase): Promise<Map<number, ShardEpoch>> {
  try {
    const { rows } = await client.query<{ shard_id: number; owner_pod: string | null; epoch: string; acquired_at: Date | null }>(
      'SELECT shard_id, owner_pod, epoch, acquired_at FROM shard_owners ORDER BY shard_id',
    );
    return new Map(rows.map((r) => [r.shard_id, { epoch: Number(r.epoch), ownerPod: r.owner_pod, acquiredAt: r.acquired_at }]));
  } catch (err) {
    if (sqlstateOf(err) === UNDEFINED_TABLE) {
      throw new CliError('the database has no schema yet: run `ticketctl migrate` first', { cause: err });
    }
    throw new CliError(`reading shard_owners failed: ${describeError(err)}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------
// Output

export function formatAge(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

function drainingLabel(p: PodView): string {
  const marks = [p.drained ? 'drained' : null, p.shuttingDown ? 'shutting down' : null].filter((m) => m !== null);
  return marks.length > 0 ? marks.join(', ') : 'no';
}

export function shardsJson(view: ClusterView, epochs: ReadonlyMap<number, ShardEpoch>) {
  return {
    shardCount: view.shardCount,
    shards: view.shards.map((s) => {
      const e = epochs.get(s.shard);
      return {
        ...s,
        epoch: e?.epoch ?? null,
        epochOwner: e?.ownerPod ?? null,
        acquiredAt: e?.acquiredAt?.toISOString() ?? null,
      };
    }),
    pods: view.pods,
    overrides: [...view.overrides].sort(([a], [b]) => a - b).map(([shard, pod]) => ({ shard, pod })),
    drained: [...view.drained].sort(),
  };
}

export function summarize(view: ClusterView): string {
  const by = (state: ShardState) => view.shards.filter((s) => s.state === state).length;
  const parts = [`${view.shardCount} shards: ${by('ok')} ok, ${by('moving')} moving, ${by('free')} free`];
  const live = view.pods.filter((p) => p.live).length;
  parts.push(`${live} live pod${live === 1 ? '' : 's'}`);
  if (view.overrides.size > 0) parts.push(`${view.overrides.size} override${view.overrides.size === 1 ? '' : 's'}`);
  if (view.drained.size > 0) parts.push(`drained: ${[...view.drained].sort().join(', ')}`);
  return parts.join('; ');
}

export function formatShardList(view: ClusterView, epochs: ReadonlyMap<number, ShardEpoch>): string[] {
  const shardRows = [
    ['SHARD', 'LEASE OWNER', 'DESIRED', 'STATE', 'EPOCH', 'EPOCH OWNER', 'OVERRIDE'],
    ...view.shards.map((s) => {
      const e = epochs.get(s.shard);
      return [
        String(s.shard),
        s.leaseOwner ?? '-',
        s.desiredOwner ?? '-',
        s.state,
        e ? String(e.epoch) : '-',
        e?.ownerPod ?? '-',
        s.override ?? '',
      ];
    }),
  ];
  const podRows = [
    ['POD', 'ADDRESS', 'HEARTBEAT', 'DRAINING', 'SHARDS', 'DESIRED'],
    ...view.pods.map((p) => [
      p.name,
      p.address ?? '-',
      p.live ? `${formatAge(p.heartbeatAgeMs)} ago` : 'gone',
      drainingLabel(p),
      String(p.ownedShards),
      String(p.desiredShards),
    ]),
  ];
  const lines = [...table(shardRows), ''];
  lines.push(...(view.pods.length > 0 ? table(podRows) : ['no live pods']));
  lines.push('', summarize(view));
  return lines.map((line) => line.trimEnd());
}

/** Shards not yet on their desired owner, as "3: pod-a → pod-b" (at most `limit`). */
export function describeMisplaced(view: ClusterView, limit = 5): string {
  const off = view.shards.filter((s) => s.leaseOwner !== s.desiredOwner);
  const shown = off.slice(0, limit).map((s) => `${s.shard}: ${s.leaseOwner ?? 'free'} → ${s.desiredOwner ?? 'none'}`);
  return off.length > limit ? `${shown.join(', ')} and ${off.length - limit} more` : shown.join(', ');
}

// ---------------------------------------------------------------------------------------
// Waiting

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly pollMs?: number;
}

/**
 * Poll `check` until it reports done. Returns the elapsed ms; on timeout throws a CliError
 * "timed out after N ms waiting for <goal>: <detail of the last check>".
 */
export async function waitUntil(goal: string, check: () => Promise<{ done: boolean; detail: string }>, options: WaitOptions): Promise<number> {
  const started = performance.now();
  const pollMs = options.pollMs ?? 200;
  for (;;) {
    const { done, detail } = await check();
    const elapsed = Math.round(performance.now() - started);
    if (done) return elapsed;
    if (elapsed >= options.timeoutMs) {
      throw new CliError(`timed out after ${options.timeoutMs} ms waiting for ${goal}: ${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, options.timeoutMs - elapsed))));
  }
}
