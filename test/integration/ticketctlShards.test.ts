/**
 * `ticketctl shards ...` against real Redis and Postgres. Pods are simulated by writing
 * the registry and leases directly (each test under its own key prefix); the CLI runs as
 * a child process with the same environment a pod would have. For `--wait`, the test
 * plays the pods' part: once the CLI has written its intent, it releases and acquires
 * the leases.
 */
import { randomBytes } from 'node:crypto';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { Redis } from 'ioredis';
import pg from 'pg';
import { desiredOwners } from '../../src/shards/assignment.js';
import { createLeaseStore, type LeaseStore } from '../../src/shards/leases.js';
import { createPodRegistry, type PodRegistry } from '../../src/shards/podRegistry.js';
import { createTestDatabase, startTestServers, type TestDatabase, type TestServers } from '../helpers/testDatabase.js';
import { stderrLines, ticketctl, type Run } from '../helpers/ticketctl.js';

const SHARDS = 8;
// Leases and heartbeats the test writes stay valid this long (the most SHARD_LEASE_MS
// allows): a ticketctl started under tsx on a starved machine can take a minute to run,
// and simulated pods that expire meanwhile would turn every check into "no live pods".
const TTL = 300_000;

interface Context {
  servers?: TestServers;
  redisUrl: string;
  db: TestDatabase;
  clients: Redis[];
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  let serverUrl = process.env.TEST_DATABASE_URL;
  let redisUrl = process.env.TEST_REDIS_URL;
  if (!serverUrl || !redisUrl) {
    t.context.servers = await startTestServers();
    serverUrl = t.context.servers.databaseUrl;
    redisUrl = t.context.servers.redisUrl;
  }
  t.context.redisUrl = redisUrl;
  t.context.db = await createTestDatabase(serverUrl);
  t.context.clients = [];
});

test.after.always(async (t) => {
  for (const c of t.context.clients ?? []) c.disconnect();
  await t.context.db?.drop();
  await t.context.servers?.stop();
});

interface Cluster {
  redis: Redis;
  registry: PodRegistry;
  leases: LeaseStore;
  env: Record<string, string>;
  /** Register live pods (heartbeat now). */
  pods(...names: string[]): Promise<void>;
  /** Take `shard` for `pod`, releasing whoever held it. */
  hand(shard: number, pod: string): Promise<void>;
}

/** A fresh key prefix with its own simulated pods. */
function cluster(t: ExecutionContext<Context>): Cluster {
  const prefix = `tctl${randomBytes(5).toString('hex')}:`;
  const redis = new Redis(t.context.redisUrl, { db: 0, keyPrefix: prefix });
  t.context.clients.push(redis);
  const registry = createPodRegistry(redis);
  const leases = createLeaseStore(redis);
  return {
    redis,
    registry,
    leases,
    env: {
      DATABASE_URL: t.context.db.url,
      DATABASE_SSL: 'false',
      REDIS_URL: t.context.redisUrl,
      REDIS_DATABASE: '0',
      REDIS_KEY_PREFIX: prefix,
      SHARD_COUNT: String(SHARDS),
      SHARD_LEASE_MS: String(TTL),
    },
    async pods(...names) {
      for (const [i, name] of names.entries()) await registry.heartbeat({ name, address: `10.0.0.${i + 1}:50052`, draining: false });
    },
    async hand(shard, pod) {
      await redis.del(`shard-lease:${shard}`);
      t.true(await leases.acquire(shard, pod, TTL));
    },
  };
}

function failsWith(t: ExecutionContext<Context>, run: Run, pattern: RegExp): void {
  t.is(run.code, 1, run.stdout);
  const lines = stderrLines(run);
  t.is(lines.length, 1, run.stderr);
  t.regex(lines[0] ?? '', pattern);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const overridesOf = async (c: Cluster) => Object.fromEntries(await c.registry.overrides());

/** Every shard on its rendezvous owner among `pods`. */
async function settle(c: Cluster, pods: string[], overrides = new Map<number, string>()): Promise<(string | null)[]> {
  const desired = desiredOwners(SHARDS, pods, overrides);
  for (const [shard, pod] of desired.entries()) if (pod) await c.hand(shard, pod);
  return desired;
}

test('shards list --json shows lease owners, desired owners, states, epochs and pods', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b', 'pod-c');
  // A pod that stopped heartbeating an hour ago is not live.
  await createPodRegistry(c.redis, () => Date.now() - 3_600_000).heartbeat({ name: 'pod-old', address: '10.0.0.9:50052', draining: false });
  const desired = await settle(c, ['pod-a', 'pod-b', 'pod-c']);
  // Shard 1 is held by the wrong pod, shard 2 is free.
  const wrong = desired[1] === 'pod-a' ? 'pod-b' : 'pod-a';
  await c.hand(1, wrong);
  await c.redis.del('shard-lease:2');
  const client = new pg.Client({ connectionString: t.context.db.url });
  await client.connect();
  try {
    await client.query('DELETE FROM shard_owners');
    await client.query(`INSERT INTO shard_owners (shard_id, owner_pod, epoch, acquired_at) VALUES (0, $1, 7, now()), (1, $2, 3, now())`, [desired[0], wrong]);
  } finally {
    await client.end();
  }

  const run = await ticketctl(['shards', 'list', '--json'], c.env);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.is(out.shardCount, SHARDS);
  t.is(out.shards.length, SHARDS);
  t.deepEqual(out.shards.map((s: any) => s.desiredOwner), desired);
  t.like(out.shards[0], { shard: 0, leaseOwner: desired[0], state: 'ok', epoch: 7, epochOwner: desired[0], override: null });
  t.like(out.shards[1], { shard: 1, leaseOwner: wrong, desiredOwner: desired[1], state: 'moving', epoch: 3, epochOwner: wrong });
  t.like(out.shards[2], { shard: 2, leaseOwner: null, state: 'free', epoch: null });
  t.deepEqual(out.pods.map((p: any) => p.name), ['pod-a', 'pod-b', 'pod-c']);
  const leaseCount = (name: string) => out.shards.filter((s: any) => s.leaseOwner === name).length;
  for (const pod of out.pods) {
    t.like(pod, { live: true, drained: false, shuttingDown: false, ownedShards: leaseCount(pod.name) });
    t.true(pod.heartbeatAgeMs >= 0 && pod.heartbeatAgeMs < TTL);
  }
  t.is(out.pods.find((p: any) => p.name === 'pod-a').address, '10.0.0.1:50052');

  const human = await ticketctl(['shards', 'list'], c.env);
  t.is(human.code, 0, human.stderr);
  t.regex(human.stdout, /^SHARD\s+LEASE OWNER\s+DESIRED\s+STATE\s+EPOCH\s+EPOCH OWNER\s+OVERRIDE/m);
  t.regex(human.stdout, /^1\s+pod-\w\s+pod-\w\s+moving\s+3\s+pod-\w/m);
  t.regex(human.stdout, /^2\s+-\s+pod-\w\s+free\s+-/m);
  t.regex(human.stdout, /^POD\s+ADDRESS\s+HEARTBEAT\s+DRAINING\s+SHARDS\s+DESIRED/m);
  t.regex(human.stdout, /^pod-a\s+10\.0\.0\.1:50052\s+\S+ ago\s+no\s+\d+\s+\d+/m);
  t.regex(human.stdout, /8 shards: 6 ok, 1 moving, 1 free; 3 live pods/);
  t.notRegex(human.stdout, /pod-old/);
});

test('shards list shows a pod that holds a lease but no longer heartbeats as gone', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a');
  await settle(c, ['pod-a']);
  await c.hand(5, 'pod-dead');
  const run = await ticketctl(['shards', 'list', '--json'], c.env);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.like(out.shards[5], { leaseOwner: 'pod-dead', desiredOwner: 'pod-a', state: 'moving' });
  t.like(out.pods[1], { name: 'pod-dead', live: false, ownedShards: 1, desiredShards: 0 });
});

test('shards move sets the override; bad shard or pod fails with one line', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b');
  const desired = await settle(c, ['pod-a', 'pod-b']);
  const shard = desired.findIndex((p) => p === 'pod-a');
  t.true(shard >= 0);

  const run = await ticketctl(['shards', 'move', String(shard), 'pod-b', '--json'], c.env);
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { shard, pod: 'pod-b', from: 'pod-a', leaseOwner: 'pod-a', waited: false });
  t.deepEqual(await overridesOf(c), { [shard]: 'pod-b' });

  const human = await ticketctl(['shards', 'move', String(shard), 'pod-a'], c.env);
  t.is(human.code, 0, human.stderr);
  t.is(human.stdout.trim(), `shard ${shard} pinned to pod-a (already its owner)`);

  const list = JSON.parse((await ticketctl(['shards', 'list', '--json'], c.env)).stdout);
  t.like(list.shards[shard], { override: 'pod-a', desiredOwner: 'pod-a', state: 'ok' });

  failsWith(t, await ticketctl(['shards', 'move', String(SHARDS), 'pod-a'], c.env), /^ticketctl: shard 8 does not exist: SHARD_COUNT is 8/);
  failsWith(t, await ticketctl(['shards', 'move', '0', 'pod-nope'], c.env), /^ticketctl: pod "pod-nope" is not live \(live pods: pod-a, pod-b\)/);
  const notNumber = await ticketctl(['shards', 'move', 'x', 'pod-a'], c.env);
  t.is(notNumber.code, 1);
  t.regex(notNumber.stderr, /^ticketctl: .*'x' is invalid for argument 'shard'/);

  await c.registry.setDrained('pod-b', true);
  failsWith(t, await ticketctl(['shards', 'move', '0', 'pod-b'], c.env), /^ticketctl: pod "pod-b" is drained; run `ticketctl shards undrain pod-b` first/);
  await c.registry.heartbeat({ name: 'pod-a', address: '10.0.0.1:50052', draining: true });
  failsWith(t, await ticketctl(['shards', 'move', '0', 'pod-a'], c.env), /^ticketctl: pod "pod-a" is shutting down/);
  t.deepEqual(await overridesOf(c), { [shard]: 'pod-a' });
});

test('shards drain marks the pod and removes only its overrides; undrain unmarks it', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b', 'pod-c');
  await settle(c, ['pod-a', 'pod-b', 'pod-c']);
  await c.registry.setOverride(2, 'pod-b');
  await c.registry.setOverride(3, 'pod-a');

  const run = await ticketctl(['shards', 'drain', 'pod-b', '--json'], c.env);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.like(out, { pod: 'pod-b', drained: true, removedOverrides: [2], waited: false });
  t.deepEqual([...(await c.registry.drained())], ['pod-b']);
  t.deepEqual(await overridesOf(c), { 3: 'pod-a' });

  const list = JSON.parse((await ticketctl(['shards', 'list', '--json'], c.env)).stdout);
  t.false(list.shards.some((s: any) => s.desiredOwner === 'pod-b'));
  t.like(list.pods.find((p: any) => p.name === 'pod-b'), { drained: true, desiredShards: 0 });
  t.deepEqual(list.drained, ['pod-b']);
  t.regex((await ticketctl(['shards', 'list'], c.env)).stdout, /^pod-b\s+\S+\s+\S+ ago\s+drained\s/m);

  failsWith(t, await ticketctl(['shards', 'drain', 'pod-zz'], c.env), /^ticketctl: pod "pod-zz" is not live/);

  const undrain = await ticketctl(['shards', 'undrain', 'pod-b'], c.env);
  t.is(undrain.code, 0, undrain.stderr);
  t.is(undrain.stdout.trim(), 'pod-b undrained: shards may be assigned to it again');
  t.is((await c.registry.drained()).size, 0);
  t.is((await ticketctl(['shards', 'undrain', 'pod-b'], c.env)).stdout.trim(), 'pod-b was not drained');
});

test('shards drain refuses to drain the last pod that can own shards unless --force', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b');
  await c.registry.setDrained('pod-b', true);
  failsWith(t, await ticketctl(['shards', 'drain', 'pod-a'], c.env), /^ticketctl: pod "pod-a" is the only pod that can own shards.*--force/);
  t.deepEqual([...(await c.registry.drained())], ['pod-b']);
  const forced = await ticketctl(['shards', 'drain', 'pod-a', '--force'], c.env);
  t.is(forced.code, 0, forced.stderr);
  t.deepEqual([...(await c.registry.drained())].sort(), ['pod-a', 'pod-b']);
});

test('shards rebalance clears overrides, keeps live pods drained and forgets gone ones', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b', 'pod-c');
  await c.registry.setOverride(0, 'pod-a');
  await c.registry.setOverride(1, 'pod-b');
  await c.registry.setDrained('pod-c', true);
  await c.registry.setDrained('pod-gone', true);
  await settle(c, ['pod-a', 'pod-b'], await c.registry.overrides());

  const run = await ticketctl(['shards', 'rebalance', '--json'], c.env);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.deepEqual(out.clearedOverrides, [{ shard: 0, pod: 'pod-a' }, { shard: 1, pod: 'pod-b' }]);
  t.deepEqual(out.forgottenDrained, ['pod-gone']);
  const desired = desiredOwners(SHARDS, ['pod-a', 'pod-b'], new Map());
  const leases = await c.leases.owners(SHARDS);
  t.is(out.toMove, desired.filter((d, i) => d !== leases[i]).length);
  t.deepEqual(await overridesOf(c), {});
  t.deepEqual([...(await c.registry.drained())], ['pod-c']);

  const human = await ticketctl(['shards', 'rebalance'], c.env);
  t.is(human.code, 0, human.stderr);
  t.regex(human.stdout, /^cleared 0 overrides; /);
});

test('shards move --wait returns once the lease reaches the target, and times out otherwise', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b');
  const desired = await settle(c, ['pod-a', 'pod-b']);
  const shard = desired.indexOf('pod-a');

  const timedOut = await ticketctl(['shards', 'move', String(shard), 'pod-b', '--wait', '--timeout-ms', '700'], c.env);
  failsWith(t, timedOut, new RegExp(`^ticketctl: timed out after 700 ms waiting for shard ${shard} to move to pod-b: lease held by pod-a; the override stays set$`));
  await c.registry.clearOverrides();

  const waiting = ticketctl(['shards', 'move', String(shard), 'pod-b', '--wait', '--timeout-ms', '20000', '--json'], c.env);
  // Play the pods: once the override is there, pod-a lets go and pod-b takes the lease.
  await until('the override', async () => (await c.registry.overrides()).get(shard) === 'pod-b');
  await new Promise((r) => setTimeout(r, 300));
  t.true(await c.leases.release(shard, 'pod-a'));
  await new Promise((r) => setTimeout(r, 300));
  t.true(await c.leases.acquire(shard, 'pod-b', TTL));
  const run = await waiting;
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.like(out, { shard, pod: 'pod-b', from: 'pod-a', leaseOwner: 'pod-b', waited: true });
  t.true(out.elapsedMs >= 500, `elapsed ${out.elapsedMs}`);
});

test('shards drain --wait returns once the pod holds no leases', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b');
  const desired = await settle(c, ['pod-a', 'pod-b']);
  const onB = desired.flatMap((p, shard) => (p === 'pod-b' ? [shard] : []));
  t.true(onB.length > 0);

  const waiting = ticketctl(['shards', 'drain', 'pod-b', '--wait', '--timeout-ms', '20000'], c.env);
  await until('the drained mark', async () => (await c.registry.drained()).has('pod-b'));
  for (const shard of onB) {
    t.true(await c.leases.release(shard, 'pod-b'));
    t.true(await c.leases.acquire(shard, 'pod-a', TTL));
    await new Promise((r) => setTimeout(r, 50));
  }
  const run = await waiting;
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`^pod-b drained; holds no shards \\(${onB.length} moved in \\S+\\)$`, 'm'));

  // Nothing left to move: --wait returns at once.
  const again = await ticketctl(['shards', 'drain', 'pod-b', '--wait', '--timeout-ms', '500', '--json'], c.env);
  t.is(again.code, 0, again.stderr);
  t.like(JSON.parse(again.stdout), { holding: [], waited: true });
});

test('shards rebalance --wait returns once every lease is on its desired owner, and times out otherwise', async (t) => {
  const c = cluster(t);
  await c.pods('pod-a', 'pod-b', 'pod-c');
  // Everything pinned to pod-a by overrides, and pod-a holds everything.
  for (let shard = 0; shard < SHARDS; shard++) {
    await c.registry.setOverride(shard, 'pod-a');
    await c.hand(shard, 'pod-a');
  }
  const desired = desiredOwners(SHARDS, ['pod-a', 'pod-b', 'pod-c'], new Map());
  const moving = desired.filter((p) => p !== 'pod-a').length;
  t.true(moving > 0);

  const timedOut = await ticketctl(['shards', 'rebalance', '--wait', '--timeout-ms', '600'], c.env);
  failsWith(t, timedOut, new RegExp(`^ticketctl: timed out after 600 ms waiting for the shards to reach their desired owners: ${moving} shards? not there yet \\(\\d+: pod-a → pod-[bc]`));

  // The timed-out run already cleared the overrides; pin them again so this run has work to do.
  for (let shard = 0; shard < SHARDS; shard++) await c.registry.setOverride(shard, 'pod-a');
  const waiting = ticketctl(['shards', 'rebalance', '--wait', '--timeout-ms', '20000', '--json'], c.env);
  await until('the overrides cleared', async () => (await c.registry.overrides()).size === 0);
  for (const [shard, pod] of desired.entries()) {
    if (pod === 'pod-a' || !pod) continue;
    t.true(await c.leases.release(shard, 'pod-a'));
    t.true(await c.leases.acquire(shard, pod, TTL));
  }
  const run = await waiting;
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { toMove: number };
  t.like(out, { clearedOverrides: desired.map((_, shard) => ({ shard, pod: 'pod-a' })), misplaced: [], waited: true });
  // Counted after the overrides were cleared, while this test already moves leases: at most all of them.
  t.true(out.toMove >= 0 && out.toMove <= moving, `toMove ${out.toMove} of ${moving}`);
});

test('an unreachable Redis or bad configuration fails fast with one line', async (t) => {
  // One connection attempt, not ioredis' endless retries: the command ends by itself with
  // exit code 1 (endless retries would run into the helper's timeout, which kills it).
  const down = await ticketctl(['shards', 'list'], { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_SSL: 'false' });
  failsWith(t, down, /^ticketctl: cannot connect to redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  failsWith(t, await ticketctl(['shards', 'move', '0', 'p'], { REDIS_URL: 'http://x' }), /^ticketctl: invalid configuration: REDIS_URL: must be a URL/);
  failsWith(t, await ticketctl(['shards', 'rebalance'], { SHARD_COUNT: '0' }), /^ticketctl: invalid configuration: SHARD_COUNT/);
});
