/**
 * ShardManager's ownership rules across Redis outages, on in-memory leases, registry and
 * epochs (test/helpers/fakeShardWorld.ts): a pod takes only the shards it is the desired
 * owner of over the pods it knows; after Redis comes back empty the first pod back waits
 * for the others instead of taking every shard; a shard whose lease ran out while Redis
 * was unreachable is taken back by its owner under the same epoch.
 */
import test from 'ava';
import { desiredOwners } from '../../src/shards/assignment.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { FakeShardWorld } from '../helpers/fakeShardWorld.js';

const SHARDS = 12;
const LEASE_MS = 1500;
const PODS = ['pod-a', 'pod-b', 'pod-c'];

async function threePods(t: { teardown(fn: () => Promise<void>): void }) {
  const world = new FakeShardWorld();
  const pods = PODS.map((name) => ({ name, ...world.manager(name, SHARDS, LEASE_MS) }));
  t.teardown(async () => {
    world.cutOff.clear();
    await Promise.all(pods.map((p) => p.manager.stop()));
  });
  for (const p of pods) await p.manager.start();
  const desired = desiredOwners(SHARDS, PODS, new Map());
  await waitFor('every shard on its desired owner', async () => pods.every((p) => p.manager.ownedShards().join() === shardsOf(desired, p.name).join()));
  return { world, pods, desired };
}

const shardsOf = (owners: readonly (string | null)[], pod: string) => owners.flatMap((o, s) => (o === pod ? [s] : []));
const epochsOf = (world: FakeShardWorld) => new Map([...world.epochs].map(([s, e]) => [s, e.epoch]));

test('Redis gone past every lease deadline, back empty: owners suspend, then resume their own shards under the same epochs, no moves', async (t) => {
  const { world, pods, desired } = await threePods(t);
  const epochsBefore = epochsOf(world);
  const acquiredBefore = world.acquisitions.length;
  for (const p of pods) p.events.drained.length = 0; // the start-up spread

  for (const p of PODS) world.cutOff.add(p);
  await waitFor('every pod to stop serving', async () => pods.every((p) => p.manager.ownedShards().length === 0 && desired.every((_, s) => !p.manager.serves(s))));
  world.wipeRedis();

  // The first pod back sees only itself in the registry, yet takes back only its own shards.
  world.cutOff.delete('pod-a');
  const [a] = pods;
  await waitFor('pod-a to serve its shards again', async () => a!.manager.ownedShards().join() === shardsOf(desired, 'pod-a').join());
  t.deepEqual(world.acquisitions.slice(acquiredBefore), [], 'nothing newly acquired: pod-a re-took the leases of its own shards');

  world.cutOff.clear();
  await waitFor('every pod to serve its shards again', async () => pods.every((p) => p.manager.ownedShards().join() === shardsOf(desired, p.name).join()));
  t.deepEqual(epochsOf(world), epochsBefore, 'no epoch moved');
  for (const p of pods) {
    t.deepEqual(p.events.lost, [], `${p.name} dropped no actors`);
    t.deepEqual(p.events.drained, [], `${p.name} handed nothing off`);
  }
});

test('a pod that does not come back within the grace period loses its shards to the others, and only those move', async (t) => {
  const { world, pods, desired } = await threePods(t);
  const epochsBefore = epochsOf(world);
  for (const p of PODS) world.cutOff.add(p);
  await waitFor('every pod to stop serving', async () => pods.every((p) => p.manager.ownedShards().length === 0));
  world.wipeRedis();
  world.cutOff.delete('pod-a');
  world.cutOff.delete('pod-b'); // pod-c stays cut off

  const without = desiredOwners(SHARDS, ['pod-a', 'pod-b'], new Map());
  await waitFor('pod-a and pod-b to own every shard', async () =>
    ['pod-a', 'pod-b'].every((name) => pods.find((p) => p.name === name)!.manager.ownedShards().join() === shardsOf(without, name).join()),
  );
  const moved = desired.flatMap((o, s) => (o === 'pod-c' ? [s] : []));
  for (let s = 0; s < SHARDS; s++) {
    const bumped = (world.epochs.get(s)?.epoch ?? 0) > (epochsBefore.get(s) ?? 0);
    t.is(bumped, moved.includes(s), `shard ${s} ${moved.includes(s) ? 'moved' : 'stayed'}`);
  }
  for (const { shard, pod } of world.acquisitions.slice(-moved.length)) t.is(pod, without[shard] ?? 'none', `shard ${shard} taken by its desired owner`);
});

test('Redis restarted between two ticks (leases and registry gone, nothing failed): every pod re-takes its own leases, no epoch moves', async (t) => {
  const { world, pods, desired } = await threePods(t);
  const epochsBefore = epochsOf(world);
  const acquiredBefore = world.acquisitions.length;
  for (const p of pods) p.events.drained.length = 0; // the start-up spread
  world.wipeRedis();
  await waitFor('every lease held again by its owner', async () => desired.every((o, s) => world.leases.get(s)?.pod === o));
  await waitFor('every pod registered again', async () => world.pods.size === PODS.length);
  for (const p of pods) await p.manager.tick();
  t.deepEqual(world.acquisitions.slice(acquiredBefore), []);
  t.deepEqual(epochsOf(world), epochsBefore);
  for (const p of pods) {
    t.deepEqual(p.manager.ownedShards(), shardsOf(desired, p.name));
    t.deepEqual(p.events.lost, []);
    t.deepEqual(p.events.drained, []);
  }
});
