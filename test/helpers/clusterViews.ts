/**
 * What tests read off the test cluster (ownership as Redis and Postgres see it) and the
 * catalog they create through the pods' REST admin API. Functions of a ClusterView, so
 * test/helpers/cluster.ts stays about processes.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { desiredOwners } from '../../src/shards/assignment.js';
import { shardOf } from '../../src/shards/shardOf.js';
import type { Pod } from './clusterPod.js';
import { waitFor, type ShardEpochRow, type TestEvent } from './clusterProcess.js';

export interface ClusterView {
  readonly redis: Redis;
  readonly db: pg.Pool;
  readonly shardCount: number;
  readonly leaseMs: number;
  readonly token: string;
  runningPods(): Pod[];
  pod(name: string): Pod;
}

export async function leaseOwners(c: ClusterView): Promise<(string | null)[]> {
  return c.redis.mget(Array.from({ length: c.shardCount }, (_, i) => `shard-lease:${i}`));
}

export async function epochs(c: ClusterView): Promise<Map<number, ShardEpochRow>> {
  const { rows } = await c.db.query<{ shard_id: number; epoch: string; owner_pod: string | null }>(
    'SELECT shard_id, epoch, owner_pod FROM shard_owners ORDER BY shard_id',
  );
  return new Map(rows.map((r) => [r.shard_id, { shard: r.shard_id, epoch: Number(r.epoch), ownerPod: r.owner_pod }]));
}

/** Pods with a fresh heartbeat in the registry (as the pods judge liveness). */
export async function livePods(c: ClusterView): Promise<{ name: string; draining: boolean }[]> {
  const pods = await c.redis.hgetall('pods');
  const now = Date.now();
  return Object.entries(pods)
    .map(([name, json]) => ({ name, ...(JSON.parse(json) as { heartbeatAt: number; draining: boolean }) }))
    .filter((p) => now - p.heartbeatAt <= c.leaseMs)
    .map(({ name, draining }) => ({ name, draining }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Desired owner of every shard, computed as the pods do (live, not shutting down, not drained, overrides). */
export async function desiredOwnersNow(c: ClusterView): Promise<(string | null)[]> {
  const [live, drained, overrides] = await Promise.all([livePods(c), c.redis.smembers('pods-draining'), c.redis.hgetall('shard-overrides')]);
  const eligible = live.filter((p) => !p.draining && !drained.includes(p.name)).map((p) => p.name);
  return desiredOwners(c.shardCount, eligible, new Map(Object.entries(overrides).map(([s, p]) => [Number(s), p])));
}

/**
 * Every running pod is live in the registry, every shard's lease is held by its desired
 * owner (the spread over exactly those pods), and Postgres names the same owner (the
 * epoch was taken).
 */
export async function waitForStableOwnership(c: ClusterView, timeoutMs = 30_000): Promise<(string | null)[]> {
  let last = '';
  return waitFor(
    'every shard on its desired owner',
    async () => {
      const [owners, desired, epochRows, live] = await Promise.all([leaseOwners(c), desiredOwnersNow(c), epochs(c), livePods(c)]);
      const running = c.runningPods().map((p) => p.name);
      const registered = live.map((p) => p.name);
      last =
        `running ${running.join(',')}, registered ${registered.join(',')}, leases ${JSON.stringify(owners)}, desired ${JSON.stringify(desired)}, ` +
        `epoch owners ${JSON.stringify([...epochRows.values()].map((e) => e.ownerPod))}`;
      const ok =
        running.every((n) => registered.includes(n)) &&
        owners.every((o, shard) => o !== null && o === desired[shard] && running.includes(o) && epochRows.get(shard)?.ownerPod === o);
      return ok ? owners : false;
    },
    { timeoutMs, intervalMs: 150, describe: () => last },
  );
}

export async function api<T = any>(c: ClusterView, method: string, urlPath: string, body?: unknown, pod = c.runningPods()[0]): Promise<{ status: number; body: T }> {
  if (!pod) throw new Error('no running pod');
  const res = await fetch(`${pod.httpUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${c.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T };
}

/** An active event with one ticket type of `capacity` (max `maxPerPurchase` per reserve). */
export async function createEvent(c: ClusterView, capacity: number, maxPerPurchase = 4): Promise<TestEvent> {
  const start = new Date(Date.now() + 30 * 86_400_000);
  const event = await api(c, 'POST', '/events', {
    title: `Cluster Event ${randomUUID().slice(0, 8)}`,
    category: 'concerts',
    start_date: start.toISOString(),
    end_date: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
  });
  if (event.status !== 201) throw new Error(`event create failed: ${event.status} ${JSON.stringify(event.body)}`);
  const type = await api(c, 'POST', `/events/${event.body.id}/tickets`, {
    name: 'GA',
    price: { currency: 'USD', amount_minor: 5000 },
    quantity: capacity,
    max_per_purchase: maxPerPurchase,
  });
  if (type.status !== 201) throw new Error(`ticket type create failed: ${type.status} ${JSON.stringify(type.body)}`);
  return { eventId: event.body.id as string, ticketTypeId: type.body.id as string, capacity };
}

/**
 * `perPod` events owned by each running pod (by the current leases), so every pod is
 * some event's owner. Event ids come from the service: create and keep those that fit.
 */
export async function createSpreadEvents(c: ClusterView, perPod: number, capacity: number): Promise<TestEvent[]> {
  const owners = await leaseOwners(c);
  const need = new Map(c.runningPods().map((p) => [p.name, perPod]));
  const events: TestEvent[] = [];
  for (let tries = 0; [...need.values()].some((n) => n > 0); tries++) {
    if (tries >= 25 * perPod * need.size) throw new Error(`could not spread events over the pods (leases ${JSON.stringify(owners)})`);
    const e = await createEvent(c, capacity);
    const owner = owners[shardOf(e.eventId, c.shardCount)] ?? '';
    if ((need.get(owner) ?? 0) > 0) {
      need.set(owner, (need.get(owner) ?? 0) - 1);
      events.push(e);
    }
  }
  return events;
}

/** Sum of a Prometheus metric's samples on a pod (0 when absent). */
export async function metric(c: ClusterView, podName: string, name: string): Promise<number> {
  const res = await fetch(`${c.pod(podName).httpUrl}/metrics`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
