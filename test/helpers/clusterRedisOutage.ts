/**
 * A Redis outage under load, probed from outside: while Redis is stopped every pod's
 * `/ready` and catalog reads (`GET /events/:id`, `GET /events`, search) are polled about
 * every 200 ms; after Redis is back, the shard moves (epoch bumps in `shard_owners`) are
 * compared with the shards whose owner actually changed.
 */
import { waitFor, type Cluster, type ShardEpochRow, type TestEvent } from './cluster.js';
import { duplicateActivations } from './clusterChecks.js';
import { finish, underLoad, type ClusterContext } from './clusterScenarios.js';

export const REDIS_OUTAGE_MS = 10_000;
const PROBE_INTERVAL_MS = 200;

/**
 * Shard moves between two `shard_owners` views: the epoch bumps, and the shards whose
 * owner differs (each of those needs one bump at least; a bump beyond is a needless move).
 */
export function shardMoves(before: ReadonlyMap<number, ShardEpochRow>, after: ReadonlyMap<number, ShardEpochRow>): { bumps: number; changed: number[] } {
  const bumps = [...after.values()].reduce((n, e) => n + e.epoch - (before.get(e.shard)?.epoch ?? 0), 0);
  const changed = [...after.values()].filter((e) => e.ownerPod !== before.get(e.shard)?.ownerPod).map((e) => e.shard);
  return { bumps, changed };
}

const percentile = (values: readonly number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))] ?? 0;

interface ProbeRound {
  readonly at: number;
  /** /ready status per pod (0 = no answer). */
  readonly ready: Map<string, number>;
}

interface OutageProbe {
  readonly rounds: ProbeRound[];
  /** Catalog reads that did not answer 200. */
  readonly readFailures: string[];
  readonly reads: { durations: number[]; slowestMs: number; slowest: string };
  stop(): Promise<void>;
}

async function get(url: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started };
  } catch {
    return { status: 0, ms: Date.now() - started };
  }
}

/** Poll every pod's readiness and catalog reads, a round every PROBE_INTERVAL_MS (rounds may overlap), until stop(). */
function probeOutage(cluster: Cluster, event: TestEvent, startedAt: number): OutageProbe {
  const rounds: ProbeRound[] = [];
  const readFailures: string[] = [];
  const reads = { durations: [] as number[], slowestMs: 0, slowest: '' };
  const paths = [`/events/${event.eventId}`, '/events?limit=5', `/events/search?q=${encodeURIComponent('cluster event')}`];
  const inFlight = new Set<Promise<void>>();
  const round = async () => {
    const at = Date.now() - startedAt;
    const ready = new Map<string, number>();
    await Promise.all(
      cluster.pods.map(async (pod) => {
        const base = pod.httpUrl;
        const [readiness, ...answers] = await Promise.all([get(`${base}/ready`), ...paths.map((p) => get(`${base}${p}`))]);
        ready.set(pod.name, readiness.status);
        answers.forEach((a, i) => {
          reads.durations.push(a.ms);
          if (a.ms > reads.slowestMs) Object.assign(reads, { slowestMs: a.ms, slowest: `${pod.name} GET ${paths[i]}` });
          if (a.status !== 200) readFailures.push(`${pod.name} GET ${paths[i]} → ${a.status} at ${at} ms`);
        });
      }),
    );
    rounds.push({ at, ready });
  };
  const timer = setInterval(() => {
    const p = round().finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, PROBE_INTERVAL_MS);
  return {
    rounds,
    readFailures,
    reads,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}

/**
 * Redis stopped for REDIS_OUTAGE_MS under load: readiness never 503 on every pod at once,
 * catalog reads answer on every pod, ownership settles with no more moves than owner
 * changes, nothing acknowledged is lost.
 */
export async function redisOutageScenario(t: ClusterContext): Promise<void> {
  const { cluster } = t.context;
  const { events, load } = await underLoad(cluster);
  await cluster.waitForStableOwnership();
  const epochsBefore = await cluster.epochs();

  await cluster.stopRedis();
  const stoppedAt = Date.now();
  const probe = probeOutage(cluster, events[0]!, stoppedAt);
  await new Promise((r) => setTimeout(r, REDIS_OUTAGE_MS)); // the outage itself
  await probe.stop();
  await cluster.startRedis(); // empty: leases, registry, overrides all gone
  const backAt = Date.now() - stoppedAt;

  await cluster.waitForStableOwnership();
  const { bumps, changed } = shardMoves(epochsBefore, await cluster.epochs());
  await load.waitForOk('confirm', (load.record.ok.get('confirm') ?? 0) + 20);

  const blackouts = probe.rounds.filter((r) => [...r.ready.values()].every((status) => status === 503));
  const notReady = probe.rounds.reduce((n, r) => n + [...r.ready.values()].filter((s) => s !== 200).length, 0);
  t.log(
    `redis down 0–${backAt} ms: ${probe.rounds.length} probe rounds, ${notReady} non-200 /ready answers, ${blackouts.length} rounds with every pod 503; ` +
      `${probe.reads.durations.length} catalog reads, ${probe.readFailures.length} failed, median ${percentile(probe.reads.durations, 0.5)} ms, ` +
      `p95 ${percentile(probe.reads.durations, 0.95)} ms, slowest ${probe.reads.slowestMs} ms (${probe.reads.slowest}); ` +
      `after: ${bumps} epoch bumps, ${changed.length} shards changed owner (${changed.join(', ') || 'none'})`,
  );
  t.true(probe.rounds.length >= REDIS_OUTAGE_MS / PROBE_INTERVAL_MS / 2, 'the probe polled through the outage');
  t.deepEqual(blackouts.map((r) => r.at), [], 'never every pod not ready at once');
  t.deepEqual(probe.readFailures, [], 'catalog reads answered on every pod');
  t.true(bumps <= changed.length, `${bumps} epoch bumps for ${changed.length} owner changes`);
  t.deepEqual(await duplicateActivations(cluster), [], 'no (shard, epoch) activated on two pods');
  await waitFor('readiness back to ok on every pod', async () => {
    const all = await Promise.all(cluster.pods.map((p) => fetch(`${p.httpUrl}/ready`).then((r) => r.json() as Promise<{ checks: { redis: string } }>)));
    return all.every((r) => r.checks.redis === 'ok');
  });
  // Writes past the lease deadline answer SHARD_MOVING (the shard is suspended) or
  // DEPENDENCY (the shard map cannot be refreshed without Redis); both retryable.
  await finish(t, load, events, { retryable: ['SHARD_MOVING', 'BUSY', 'DEPENDENCY'] });
}
