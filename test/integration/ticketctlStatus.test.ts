/**
 * `ticketctl status` against two real pods: each pod announces its REST URL in its
 * heartbeat, the CLI asks each one's /ready and shows the shard spread.
 */
import test from 'ava';
import { probeReady, readinessLabel } from '../../src/cli/clusterStatus.js';
import type { Config } from '../../src/config.js';
import { startTestService } from '../helpers/service.js';
import { ticketctl } from '../helpers/ticketctl.js';

/** What `source .data/dev.env` would give the CLI for this pod's stack. */
const cliEnv = (config: Config): Record<string, string> => ({
  DATABASE_URL: config.database.url,
  DATABASE_SSL: 'false',
  REDIS_URL: config.redis.url,
  REDIS_DATABASE: String(config.redis.database),
  REDIS_KEY_PREFIX: config.redis.keyPrefix,
  SHARD_COUNT: String(config.shards.count),
  SHARD_LEASE_MS: String(config.shards.leaseMs),
});

interface StatusJson {
  shardCount: number;
  shards: { ok: number; moving: number; free: number };
  pods: Array<{ name: string; state: string; http: string | null; ownedShards: number; readiness: { state: string; checks?: Record<string, string>; services?: Record<string, string> } }>;
}

test('status lists both pods as ready with their REST URLs, and every shard held once', async (t) => {
  const a = await startTestService();
  const b = await startTestService({}, a);
  try {
    const run = await ticketctl(['status', '--json'], cliEnv(a.config));
    t.is(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout) as StatusJson;
    t.is(status.shardCount, a.config.shards.count);
    t.deepEqual(status.shards, { ok: a.config.shards.count, moving: 0, free: 0 });
    t.deepEqual(status.pods.map((p) => p.name).sort(), [a.config.pod.name, b.config.pod.name].sort());
    for (const [svc, pod] of [a, b].map((s) => [s, status.pods.find((p) => p.name === s.config.pod.name)] as const)) {
      t.is(pod?.state, 'serving');
      t.is(pod?.http, `http://127.0.0.1:${svc.service.ports.http}`, 'the URL the pod announced reaches its REST port');
      t.is(pod?.readiness.state, 'ready');
      t.is(pod?.readiness.checks?.shards, 'ok');
      t.is(pod?.readiness.services?.['ticket.InventoryService'], 'SERVING');
    }
    t.is(status.pods.reduce((n, p) => n + p.ownedShards, 0), a.config.shards.count);

    const human = await ticketctl(['status'], cliEnv(a.config));
    t.is(human.code, 0, human.stderr);
    t.regex(human.stdout, new RegExp(`^${a.config.pod.name}\\s+serving\\s+ready\\s`, 'm'));
    t.regex(human.stdout, /^spread: pod-\w+ \d+, pod-\w+ \d+$/m);
    t.regex(human.stdout, new RegExp(`${a.config.shards.count} shards: ${a.config.shards.count} ok, 0 moving, 0 free; 2 live pods`));
  } finally {
    await b.close();
    await a.close();
  }
});

test('a pod that does not answer is shown as unreachable, one without a URL as unknown', async (t) => {
  const closed = await probeReady('http://127.0.0.1:1');
  t.is(closed.state, 'unreachable');
  t.is(readinessLabel(closed), 'unreachable (connection failed)');
  t.is(readinessLabel(await probeReady(null)), '-');
  t.is(readinessLabel({ state: 'not_ready', checks: { postgres: 'ok', redis: 'degraded', shards: 'draining' } }), 'not ready (shards: draining)');
  t.is(
    readinessLabel({ state: 'ready', checks: { postgres: 'ok', redis: 'degraded' }, services: { '': 'SERVING', 'ticket.TicketService': 'SERVING', 'ticket.InventoryService': 'NOT_SERVING' } }),
    'ready (redis: degraded, ticket.InventoryService: not serving)',
  );
  t.is(readinessLabel({ state: 'ready', checks: { postgres: 'ok', redis: 'degraded' } }), 'ready (redis: degraded)');
});
