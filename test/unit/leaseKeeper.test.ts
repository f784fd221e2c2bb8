/**
 * LeaseKeeper on its own, over in-memory leases and epochs (test/helpers/fakeShardWorld.ts)
 * and a clock the test moves by hand: what a renewal does to a held shard's deadline, when
 * an OWNED shard is suspended, and when a suspended one is served again or lost.
 */
import test from 'ava';
import { pino } from 'pino';
import type { Queryable } from '../../src/db/pool.js';
import { LeaseKeeper, type Held } from '../../src/shards/leaseKeeper.js';
import type { LeaseStore } from '../../src/shards/leases.js';
import type { ShardState } from '../../src/shards/shardTypes.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { FakeShardWorld } from '../helpers/fakeShardWorld.js';

const LEASE_MS = 3000;
const SAFETY_MS = 300; // max(200, lease / 10)
const POD = 'pod-a';

function keeper(shards: Record<number, Held>, o: { leases?: (base: LeaseStore, held: Map<number, Held>) => LeaseStore; db?: (base: Queryable) => Queryable } = {}) {
  const clock = new FakeClock();
  const world = new FakeShardWorld(() => clock.now());
  const held = new Map(Object.entries(shards).map(([s, h]) => [Number(s), h]));
  const events = { transitions: [] as Array<[number, ShardState]>, lost: [] as Array<[number, string]>, renewFailed: [] as number[] };
  const base = world.leaseStore(POD);
  const k = new LeaseKeeper({
    pod: POD,
    leaseMs: LEASE_MS,
    clock,
    leases: o.leases ? o.leases(base, held) : base,
    db: o.db ? o.db(world.db()) : world.db(),
    log: pino({ level: 'silent' }),
    held,
    transition: (shard, next) => {
      const h = held.get(shard);
      if (h) h.state = next;
      events.transitions.push([shard, next]);
    },
    lose: (shard, reason) => {
      held.delete(shard);
      events.lost.push([shard, reason]);
    },
    renewFailed: (shard) => void events.renewFailed.push(shard),
  });
  return { clock, world, held, events, keeper: k };
}

const holding = (state: ShardState, epoch = 1): Held => ({ state, epoch, deadline: 0 });

test('a renewal moves the deadline to lease − safety after it was sent; a failed one does not, and past it only an OWNED shard is suspended', async (t) => {
  const { clock, world, held, events, keeper: k } = keeper({ 0: holding('OWNED'), 1: holding('DRAINING'), 2: holding('ACQUIRING') });
  for (const s of [0, 1]) world.leases.set(s, { pod: POD, expiresAt: clock.now() + LEASE_MS });
  const sentAt = clock.monotonic();
  await k.renewAll();
  t.is(held.get(0)?.deadline, sentAt + LEASE_MS - SAFETY_MS);
  t.is(k.deadlineAfter(sentAt), sentAt + LEASE_MS - SAFETY_MS);
  t.is(held.get(1)?.deadline, sentAt + LEASE_MS - SAFETY_MS);
  t.is(held.get(2)?.deadline, 0, 'a shard still being acquired is left alone');
  t.false(world.leases.has(2), 'and its lease not touched');

  world.cutOff.add(POD); // Redis unreachable
  await clock.advance(1000);
  await k.renewAll();
  t.deepEqual(events.renewFailed, [0, 1]);
  t.is(held.get(0)?.deadline, sentAt + LEASE_MS - SAFETY_MS, 'the deadline keeps counting down');

  await clock.advance(sentAt + LEASE_MS - SAFETY_MS - 1 - clock.now());
  k.suspendOverdue();
  t.true(k.inTime(held.get(0)!));
  t.deepEqual(events.transitions, []);
  await clock.advance(1);
  t.false(k.inTime(held.get(0)!));
  k.suspendOverdue();
  t.deepEqual(events.transitions, [[0, 'SUSPENDED']], 'the DRAINING shard is not suspended');
  t.deepEqual(events.lost, []);
});

test('a suspended shard is served again only with its lease back and Postgres still naming this pod under the same epoch', async (t) => {
  let postgresDown = true;
  const { clock, world, held, events, keeper: k } = keeper(
    { 0: holding('SUSPENDED', 3), 1: holding('SUSPENDED', 3), 2: holding('SUSPENDED', 4), 3: holding('SUSPENDED', 2) },
    { db: (base) => ({ query: (sql: string, params: unknown[]) => (postgresDown ? Promise.reject(new Error('postgres down')) : base.query(sql, params)) }) as unknown as Queryable },
  );
  world.epochs.set(0, { pod: POD, epoch: 3 });
  world.epochs.set(1, { pod: 'pod-b', epoch: 4 }); // another pod took it meanwhile
  world.epochs.set(2, { pod: POD, epoch: 5 }); // taken afresh: not the epoch this pod's actors hold
  world.epochs.set(3, { pod: POD, epoch: 2 });
  world.leases.set(3, { pod: 'pod-b', expiresAt: Infinity }); // shards 0–2: Redis lost the leases

  await k.renewAll();
  t.deepEqual(events.transitions, [], 'Postgres unreachable: nothing resumed yet');
  t.deepEqual(events.lost, [[3, 'lease held by another pod']]);
  t.deepEqual(events.renewFailed, [3]);
  t.is(held.get(0)?.state, 'SUSPENDED');

  postgresDown = false;
  await clock.advance(500);
  const sentAt = clock.monotonic();
  await k.renewAll();
  t.deepEqual(events.transitions, [[0, 'OWNED']]);
  t.is(held.get(0)?.deadline, sentAt + LEASE_MS - SAFETY_MS);
  t.deepEqual(events.lost.slice(1).sort(), [[1, 'epoch moved on while suspended'], [2, 'epoch moved on while suspended']]);
  t.is(world.leases.get(0)?.pod, POD, 'its lease re-taken');
});

test('a DRAINING shard whose lease is gone is lost, its lease not re-taken; a lease re-taken for a shard dropped meanwhile is given back', async (t) => {
  const { world, held, events, keeper: k } = keeper(
    { 0: holding('DRAINING'), 1: holding('OWNED') },
    {
      leases: (base, table) => ({
        ...base,
        renew: async (shard, pod, ttlMs, retake) => {
          const result = await base.renew(shard, pod, ttlMs, retake);
          if (shard === 1) table.delete(1); // the manager dropped it while the renewal was on its way
          return result;
        },
      }),
    },
  ); // no lease in Redis for either (it lost them)
  await k.renewAll();
  t.deepEqual(events.lost, [[0, 'lease held by another pod']]);
  t.false(world.leases.has(0), 'the drained shard\'s release sticks');
  t.false(world.leases.has(1), 're-taken, then given back');
  t.false(held.has(1));
  t.deepEqual(events.transitions, []);
});
