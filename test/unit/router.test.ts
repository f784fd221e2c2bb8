/**
 * The router on a clock the test moves by hand: a call for a shard in a planned hand-off
 * waits and is delivered to the new owner (no error); the wait is bounded by
 * SHARD_HANDOFF_WAIT_MS and by the caller's deadline (answered a margin before it); a pod
 * taking a shard over holds forwarded calls until it serves it; a map that cannot be
 * re-read is a DEPENDENCY error after a short wait.
 */
import test from 'ava';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { AppError } from '../../src/errors.js';
import type { Forwarder } from '../../src/shards/forwarding.js';
import { createRouter, DEADLINE_MARGIN_MS, UNREADABLE_WAIT_MS } from '../../src/shards/router.js';
import type { RoutingView } from '../../src/shards/shardManager.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { FakeClock } from '../helpers/fakeClock.js';

const SHARDS = 4;
const EVENT = '7d0f4a3e-2c51-4b8e-9a61-0c2f3e4d5a6b';
const SHARD = shardOf(EVENT, SHARDS);
const CMD: InventoryCommand = { type: 'GetLevels' };
const done: InventoryReply = { ok: true, kind: 'done' };

/** A pod's view of the map: who holds each lease, as last read; `truth` is what a refresh reads. */
function setup(options: { handoffWaitMs?: number } = {}) {
  const clock = new FakeClock();
  const state = {
    serves: false,
    acquiring: false,
    /** The lease holder as this pod last read it, and as Redis has it now. */
    seen: 'pod-old' as string,
    truth: 'pod-old' as string,
    redisDown: false,
    refreshes: 0,
    forwards: [] as string[],
    local: 0,
    waits: [] as [string, number][],
  };
  const routing: RoutingView = {
    serves: () => state.serves,
    acquiring: () => state.acquiring,
    epochFor: () => undefined,
    ownerOf: () => ({ pod: state.seen, address: `${state.seen}:1` }),
    ownedShards: () => [],
    refresh: async () => {
      state.refreshes += 1;
      if (state.redisDown) throw new Error('redis down');
      state.seen = state.truth;
    },
  };
  const forwarder: Forwarder = {
    async forward(address) {
      state.forwards.push(address);
      // The old owner drains the shard: it answers SHARD_MOVING until the move is over.
      if (address === 'pod-old:1') throw new AppError('SHARD_MOVING', 'draining', { shard_id: SHARD });
      return done;
    },
    close: () => undefined,
  };
  const router = createRouter({
    routing,
    forwarder,
    shardCount: SHARDS,
    podName: 'pod-here',
    local: async () => {
      state.local += 1;
      return done;
    },
    clock,
    handoffWaitMs: options.handoffWaitMs ?? 3000,
    onHandoffWait: (outcome, ms) => void state.waits.push([outcome, ms]),
  });
  return { clock, state, router };
}

/** Follow a promise without awaiting it. */
function track<T>(p: Promise<T>) {
  const out: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(out, { settled: true, value }),
    (error: unknown) => Object.assign(out, { settled: true, error }),
  );
  return out;
}

const codeOf = (err: unknown) => (err instanceof AppError ? err.code : String(err));

test('a call for a shard in hand-off waits, then goes to the new owner: no error for the caller', async (t) => {
  const { clock, state, router } = setup();
  const call = track(router.route(EVENT, CMD));
  await clock.advance(500);
  t.false(call.settled, 'still waiting while the old owner drains');
  t.true(state.forwards.length > 1 && state.forwards.every((a) => a === 'pod-old:1'));
  t.true(state.refreshes > 0, 'the map is re-read while waiting');

  state.truth = 'pod-new'; // the new owner took the lease
  await clock.advance(100);
  t.true(call.settled);
  t.is(call.value, done);
  t.is(state.forwards.at(-1), 'pod-new:1');
  t.deepEqual(state.waits.map(([o]) => o), ['delivered']);
  t.true((state.waits[0]?.[1] ?? 0) >= 500 && (state.waits[0]?.[1] ?? 0) <= 600);
});

test('the wait is bounded by SHARD_HANDOFF_WAIT_MS: then SHARD_MOVING', async (t) => {
  const { clock, state, router } = setup({ handoffWaitMs: 3000 });
  const call = track(router.route(EVENT, CMD));
  await clock.advance(2999);
  t.false(call.settled);
  await clock.advance(1);
  t.true(call.settled);
  t.is(codeOf(call.error), 'SHARD_MOVING');
  t.deepEqual(state.waits, [['moving', 3000]]);
});

test('the wait is bounded by the caller\'s deadline: SHARD_MOVING a margin before it, so the answer arrives in time', async (t) => {
  const { clock, router } = setup({ handoffWaitMs: 3000 });
  const deadline = clock.now() + 1000;
  const call = track(router.route(EVENT, CMD, { deadline }));
  await clock.advance(1000 - DEADLINE_MARGIN_MS - 1);
  t.false(call.settled);
  await clock.advance(1);
  t.true(call.settled);
  t.is(codeOf(call.error), 'SHARD_MOVING');
});

test('a cancelled caller stops waiting', async (t) => {
  const { clock, router } = setup();
  const controller = new AbortController();
  const call = track(router.route(EVENT, CMD, { signal: controller.signal }));
  await clock.advance(200);
  t.false(call.settled);
  controller.abort();
  await clock.advance(200);
  t.is(codeOf(call.error), 'CANCELLED');
});

test('a caller that reports itself gone (no signal built) stops waiting too', async (t) => {
  const { clock, router } = setup();
  let gone = false;
  const call = track(router.route(EVENT, CMD, { get cancelled() { return gone; } }));
  await clock.advance(200);
  t.false(call.settled);
  gone = true;
  await clock.advance(200);
  t.is(codeOf(call.error), 'CANCELLED');
});

test('this pod taking the shard over: local calls and calls forwarded here wait until it serves, then run here', async (t) => {
  const { clock, state, router } = setup();
  state.seen = state.truth = 'pod-here';
  state.acquiring = true; // lease taken, epoch being bumped
  const direct = track(router.route(EVENT, CMD));
  const forwarded = track(router.serveLocally(EVENT, CMD));
  await clock.advance(300);
  t.false(direct.settled);
  t.false(forwarded.settled);
  state.acquiring = false;
  state.serves = true;
  await clock.advance(100);
  t.is(direct.value, done);
  t.is(forwarded.value, done);
  t.is(state.local, 2);
  t.deepEqual(state.forwards, [], 'nothing forwarded');
});

test('a forwarded call for a shard this pod neither serves nor takes is refused at once (the forwarding pod waits)', async (t) => {
  const { state, router } = setup();
  state.seen = 'pod-new';
  const err = await t.throwsAsync(router.serveLocally(EVENT, CMD));
  t.is(codeOf(err), 'SHARD_MOVING');
  t.is(state.local, 0);
});

test('the map cannot be re-read (Redis down): the call waits UNREADABLE_WAIT_MS at most, then gets a retryable DEPENDENCY error', async (t) => {
  const { clock, state, router } = setup({ handoffWaitMs: 3000 });
  state.redisDown = true;
  const deadline = clock.now() + 3000;
  const call = track(router.route(EVENT, CMD, { deadline }));
  // The first look fails over to the map (10 ms), whose read fails: the shorter wait starts then.
  await clock.advance(10 + UNREADABLE_WAIT_MS - 1);
  t.false(call.settled);
  await clock.advance(100);
  t.is(codeOf(call.error), 'DEPENDENCY');
  t.true(clock.now() < deadline - DEADLINE_MARGIN_MS - 1000, 'answered well before the deadline');
});

test('Redis unreachable for a moment during a hand-off: the call still reaches the new owner', async (t) => {
  const { clock, state, router } = setup();
  state.redisDown = true;
  const call = track(router.route(EVENT, CMD));
  await clock.advance(300);
  state.redisDown = false;
  state.truth = 'pod-new';
  await clock.advance(200);
  t.is(call.value, done);
});
