/**
 * Pod registry and operator controls in Redis.
 *  - `pods` hash: pod name → {address, http?, grpc?, heartbeatAt, draining}; a pod whose heartbeat is
 *    older than the TTL is dead and pruned by whoever notices.
 *  - `shard-overrides` hash: shard → pod, set by `ticketctl shards move`.
 *  - `pods-draining` set: pods `ticketctl shards drain` emptied (no shards assigned).
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';

export interface PodInfo {
  readonly name: string;
  /** host:port other pods forward gRPC calls to. */
  readonly address: string;
  /** The pod's REST base URL (`/ready`, `/metrics`) for operators' tools; absent from older pods. */
  readonly http?: string;
  /** host:port of the pod's public gRPC port, for clients that route calls themselves (GetShardMap); absent from older pods. */
  readonly grpc?: string;
  /** Wall-clock ms of the last heartbeat (pods share one Redis clock view only roughly). */
  readonly heartbeatAt: number;
  /** The pod is shutting down: assign it nothing. */
  readonly draining: boolean;
}

const podJson = z.object({ address: z.string(), http: z.string().optional(), grpc: z.string().optional(), heartbeatAt: z.number(), draining: z.boolean() });

const PODS = 'pods';
const OVERRIDES = 'shard-overrides';
const DRAINED = 'pods-draining';

export interface PodRegistry {
  /** Record the pod as live now; true when it had no entry (first heartbeat, or Redis forgot it). */
  heartbeat(pod: Omit<PodInfo, 'heartbeatAt'>): Promise<boolean>;
  /** Pods heard from within `ttlMs`; dead entries are removed. */
  live(ttlMs: number): Promise<PodInfo[]>;
  remove(name: string): Promise<void>;
  overrides(): Promise<Map<number, string>>;
  setOverride(shardId: number, pod: string): Promise<void>;
  clearOverrides(): Promise<void>;
  drained(): Promise<Set<string>>;
  setDrained(pod: string, drained: boolean): Promise<void>;
}

export function createPodRegistry(redis: Redis, clock: () => number = Date.now): PodRegistry {
  return {
    async heartbeat(pod) {
      const entry = { address: pod.address, http: pod.http, grpc: pod.grpc, heartbeatAt: clock(), draining: pod.draining };
      const added = await redis.hset(PODS, pod.name, JSON.stringify(entry));
      return added === 1;
    },
    async live(ttlMs) {
      const all = await redis.hgetall(PODS);
      const now = clock();
      const pods: PodInfo[] = [];
      const dead: string[] = [];
      for (const [name, json] of Object.entries(all)) {
        const parsed = podJson.safeParse(JSON.parse(json));
        if (!parsed.success || now - parsed.data.heartbeatAt > ttlMs) dead.push(name);
        else pods.push({ name, ...parsed.data });
      }
      if (dead.length > 0) await redis.hdel(PODS, ...dead);
      return pods.sort((a, b) => a.name.localeCompare(b.name));
    },
    async remove(name) {
      await redis.hdel(PODS, name);
    },
    async overrides() {
      const all = await redis.hgetall(OVERRIDES);
      return new Map(Object.entries(all).map(([shard, pod]) => [Number(shard), pod]));
    },
    async setOverride(shardId, pod) {
      await redis.hset(OVERRIDES, String(shardId), pod);
    },
    async clearOverrides() {
      await redis.del(OVERRIDES);
    },
    async drained() {
      return new Set(await redis.smembers(DRAINED));
    },
    async setDrained(pod, drained) {
      if (drained) await redis.sadd(DRAINED, pod);
      else await redis.srem(DRAINED, pod);
    },
  };
}
