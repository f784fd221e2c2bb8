/**
 * ShardManager on a clock the test moves by hand (test/helpers/fakeClock.ts) over in-memory
 * leases, registry and epochs (test/helpers/fakeShardWorld.ts): ticks run on the clock, a
 * shard is served exactly until its lease deadline, a joining pod is not ready before its
 * first assignment settled, and a hand-off completes within one tick thanks to the nudges
 * (without them it waits for the next interval).
 */
import test from 'ava';
import { desiredOwners } from '../../src/shards/assignment.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { FakeClock, settle } from '../helpers/fakeClock.js';
import { FakeShardWorld } from '../helpers/fakeShardWorld.js';

const SHARDS = 8;
const LEASE_MS = 3000;
const TICK_MS = LEASE_MS / 3;
const SAFETY_MS = 300; // max(200, lease / 10)

function world(t: { teardown(fn: () => Promise<void>): void }, nudges = true) {
  const clock = new FakeClock();
  const w = new FakeShardWorld(() => clock.now());
  const managers: { stop(): Promise<void> }[] = [];
  const pod = (name: string) => {
    const m = w.manager(name, SHARDS, LEASE_MS, { clock, nudges });
    managers.push(m.manager);
    return m;
  };
  t.teardown(async () => {
    w.cutOff.clear();
    await Promise.all(managers.map((m) => m.stop()));
  });
  return { clock, world: w, pod };
}

const shardsOf = (owners: readonly (string | null)[], pod: string) => owners.flatMap((o, s) => (o === pod ? [s] : []));
const all = Array.from({ length: SHARDS }, (_, s) => s);

test('ticks run on the injected clock; without renewals a shard is served until lease − safety after its last renewal, not a moment longer', async (t) => {
  const { clock, world: w, pod } = world(t);
  const { manager } = pod('pod-a');
  await manager.start();
  t.deepEqual(manager.ownedShards(), all, 'a lone pod owns every shard when start() returns');
  t.is(manager.status(), 'ok');
  const renewedAt = clock.now();

  await clock.advance(TICK_MS - 1);
  t.is(w.leases.get(0)?.expiresAt, renewedAt + LEASE_MS, 'no tick before its interval');
  await clock.advance(1);
  t.is(w.leases.get(0)?.expiresAt, renewedAt + TICK_MS + LEASE_MS, 'the tick at its interval renewed the lease');

  w.cutOff.add('pod-a'); // Redis unreachable: renewals fail from now on
  const lastRenewal = renewedAt + TICK_MS;
  await clock.advance(lastRenewal + LEASE_MS - SAFETY_MS - 1 - clock.now());
  t.true(all.every((s) => manager.serves(s)), 'served up to the local deadline');
  t.not(manager.epochFor(0), undefined);
  await clock.advance(1);
  t.true(all.every((s) => !manager.serves(s)), 'not served from the deadline on');
  t.is(manager.epochFor(0), undefined);
});

test('a joining pod is not ready until it serves its share; with nudges the hand-off completes within one tick of the owner', async (t) => {
  const { clock, world: w, pod } = world(t);
  const a = pod('pod-a');
  await a.manager.start();
  const b = pod('pod-b');
  await b.manager.start();
  const desired = desiredOwners(SHARDS, ['pod-a', 'pod-b'], new Map());
  const mine = shardsOf(desired, 'pod-b');
  t.true(mine.length > 0);
  t.deepEqual(b.manager.ownedShards(), [], 'every shard still held by pod-a');
  t.is(b.manager.status(), 'starting', 'not ready before its first assignment settled');

  // pod-a sees pod-b at its next tick, drains those shards and releases them; its nudge
  // makes pod-b tick at once and take them: no further clock movement needed.
  const before = clock.now();
  await clock.advance(TICK_MS);
  await waitFor('pod-b to serve its share', async () => {
    await settle();
    return b.manager.ownedShards().join() === mine.join();
  });
  t.is(clock.now(), before + TICK_MS, 'taken over within the tick that started the hand-off');
  t.is(b.manager.status(), 'ok');
  t.deepEqual(a.events.drained.sort((x, y) => x - y), mine, 'pod-a drained exactly what moved');
  t.deepEqual(a.manager.ownedShards(), shardsOf(desired, 'pod-a'));
  for (const s of mine) t.is(w.epochs.get(s)?.pod, 'pod-b');
});

test('without nudges the new owner takes a released shard only at its own next tick', async (t) => {
  const { clock, pod } = world(t, false);
  const a = pod('pod-a');
  await a.manager.start();
  await clock.advance(TICK_MS / 2); // the two pods tick half an interval apart
  const b = pod('pod-b');
  await b.manager.start();
  const mine = shardsOf(desiredOwners(SHARDS, ['pod-a', 'pod-b'], new Map()), 'pod-b');

  await clock.advance(TICK_MS / 2); // pod-a's tick: it hands the shards off and releases them
  await waitFor('pod-a to release the shards', async () => {
    await settle();
    return a.events.drained.length === mine.length;
  });
  t.deepEqual(b.manager.ownedShards(), [], 'pod-b has not looked again yet');
  t.is(b.manager.status(), 'starting');
  await clock.advance(TICK_MS / 2); // pod-b's tick
  await waitFor('pod-b to serve its share', async () => {
    await settle();
    return b.manager.ownedShards().join() === mine.join();
  });
  t.is(b.manager.status(), 'ok');
});

test('readiness does not wait forever: three lease periods after start the pod is ready even if a shard never came free', async (t) => {
  const { clock, world: w, pod } = world(t);
  w.leases.set(0, { pod: 'a-stranger', expiresAt: Infinity }); // held by someone who never lets go
  const c = pod('pod-c');
  await c.manager.start();
  t.deepEqual(c.manager.ownedShards(), all.filter((s) => s !== 0));
  t.is(c.manager.status(), 'starting');
  await clock.advance(3 * LEASE_MS - 1);
  t.is(c.manager.status(), 'starting');
  await clock.advance(1);
  t.is(c.manager.status(), 'ok');
});
