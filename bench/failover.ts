/**
 * Scenario "failover": time until a killed owner's events are served again. A cluster of
 * 2 pod processes (test/helpers/cluster.ts: the service's entry point from source under tsx, one Postgres
 * database, one Redis, SHARD_COUNT 8, SHARD_LEASE_MS as given). Per repetition: an event
 * owned by pod-b (its actor activated there), kill -9 pod-b, then every 20 ms a
 * GetInventoryLevels for the event through pod-a (each attempt has its own deadline, so a
 * hanging attempt does not delay the next one); the time from the kill to the first answer
 * is the failover time. pod-b is restarted between repetitions. Target (reported, not
 * asserted): ≤ lease TTL + 1 s. Cluster.close() kills every process it started.
 */
import { Cluster } from '../test/helpers/cluster.js';
import { unaryCall } from '../test/helpers/grpc.js';

export interface FailoverResult {
  readonly pods: number;
  readonly shardCount: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** kill -9 → first successful GetInventoryLevels through the survivor, per repetition. */
  readonly failoverMs: readonly number[];
  /** Failed poll attempts per repetition (errors or deadlines while the shard was moving). */
  readonly failedPolls: readonly number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = 20;

export async function failoverBench(repetitions: number, leaseMs: number, say: (l: string) => void = () => undefined, aborted: () => boolean = () => false): Promise<FailoverResult> {
  say(`failover: starting 2 pods (lease ${leaseMs} ms)…`);
  const cluster = await Cluster.start({ pods: 2, shardCount: 8, leaseMs, env: { LOG_LEVEL: 'warn' } });
  const failoverMs: number[] = [];
  const failedPolls: number[] = [];
  try {
    const a = cluster.pod('pod-a');
    for (let rep = 0; rep < repetitions && !aborted(); rep++) {
      if (rep > 0) {
        say('failover: restarting pod-b…');
        await cluster.heal();
      }
      const owners = await cluster.leaseOwners();
      const events = await cluster.createSpreadEvents(1, 100);
      const event = events.find((e) => owners[cluster.shardOf(e.eventId)] === 'pod-b');
      if (!event) throw new Error('no event owned by pod-b');
      // Served (actor active on pod-b, reached through pod-a) before the kill. Right after a
      // restart pod-a may still be reconnecting to pod-b: UNAVAILABLE is retried a while.
      for (let tries = 1; ; tries++) {
        try {
          await unaryCall(a.clients.inventory, 'GetInventoryLevels', { event_id: event.eventId }, { deadlineMs: 2000 });
          break;
        } catch (err) {
          if (tries >= 50 || (err as { code?: number }).code !== 14) throw err;
          await sleep(200);
        }
      }
      say(`failover ${rep + 1}/${repetitions}: kill -9 pod-b…`);
      const killedAt = performance.now();
      const exited = cluster.kill9('pod-b');
      let answeredAt: number | undefined;
      let failed = 0;
      const inflight = new Set<Promise<void>>();
      const deadline = killedAt + leaseMs + 30_000;
      while (answeredAt === undefined && performance.now() < deadline) {
        const p: Promise<void> = unaryCall(a.clients.inventory, 'GetInventoryLevels', { event_id: event.eventId }, { deadlineMs: 2000 }).then(
          () => {
            answeredAt ??= performance.now();
          },
          () => {
            failed++;
          },
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        await sleep(POLL_MS);
      }
      await Promise.all(inflight);
      await exited;
      if (answeredAt === undefined) throw new Error(`pod-b's event was not served again within ${leaseMs + 30_000} ms:\n${cluster.tails(15)}`);
      failoverMs.push(answeredAt - killedAt);
      failedPolls.push(failed);
      say(`failover ${rep + 1}/${repetitions}: ${(answeredAt - killedAt).toFixed(0)} ms (${failed} failed polls)`);
    }
  } finally {
    await cluster.close();
  }
  return { pods: 2, shardCount: 8, leaseMs, pollMs: POLL_MS, failoverMs, failedPolls };
}
