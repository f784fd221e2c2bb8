/**
 * The group commit's bisection against a stand-in for Postgres that refuses any statement
 * carrying a poisoned event's rows: the culprits fail alone with TurnRefusedError, every
 * other turn commits (and only after the statement that wrote it succeeded), in
 * 1 + 2·⌈log2 n⌉ statements for one culprit among n; a connection failure during the
 * bisection fails every turn not committed yet, with that error; fencing still works.
 * Batch times are measured on a clock the test moves by hand.
 */
import test from 'ava';
import { MAX_TURNS_PER_COMMIT, TurnRefusedError, createCommitBatcher } from '../../actors/inventory/commitBatcher.js';
import { FencedError } from '../../actors/inventory/store.js';
import type { TurnWrite } from '../../actors/inventory/turnCommit.js';
import { isRowFault } from '../../src/db/sqlstate.js';
import { FakeClock, settle } from '../helpers/fakeClock.js';

const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

/** Commits statements unless they carry a poisoned event (22P05) or `down` is set (57P01). */
function fakePostgres(poisoned: ReadonlySet<string>, epochs: ReadonlyMap<number, number> = new Map()) {
  const state = { statements: 0, committed: [] as string[], down: false, downAfter: Infinity };
  const pool = {
    async query(config: { values: unknown[] }) {
      state.statements += 1;
      if (state.down || state.statements > state.downAfter) throw sqlError('57P01');
      const turns = JSON.parse(config.values[1] as string) as { event_id: string; shard_id: number; epoch: number }[];
      if (turns.some((x) => poisoned.has(x.event_id))) throw sqlError('22P05');
      const shards = config.values[0] as number[];
      for (const x of turns) if ((epochs.get(x.shard_id) ?? 1) === x.epoch) state.committed.push(x.event_id);
      return { rows: shards.map((s) => ({ shard_id: s, epoch: String(epochs.get(s) ?? 1) })) };
    },
  };
  return { pool: pool as never, state };
}

function turn(eventId: string, epoch = 1, shardId = 0): TurnWrite {
  return { eventId, shardId, epoch, entries: [], reservations: [], tickets: [], checkIns: [] };
}

const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

test('one poisoned turn among 256 fails alone; the 255 others commit, in 17 statements after the batch in flight', async (t) => {
  const events = ids(MAX_TURNS_PER_COMMIT, 'e');
  const culprit = events[137]!;
  const { pool, state } = fakePostgres(new Set([culprit]));
  const refused: string[] = [];
  const batcher = createCommitBatcher(pool, { isTurnFault: isRowFault, onRefused: (id) => refused.push(id) });
  // The first commit goes alone; the 256 queued while it is in flight form one batch.
  const first = batcher.commit(turn('first'));
  const results = await Promise.allSettled(events.map((e) => batcher.commit(turn(e))));
  await first;
  t.is(state.statements, 1 + 1 + 2 * Math.log2(MAX_TURNS_PER_COMMIT));
  results.forEach((r, i) => {
    if (events[i] === culprit) {
      t.is(r.status, 'rejected');
      t.true(r.status === 'rejected' && r.reason instanceof TurnRefusedError && r.reason.eventId === culprit);
    } else {
      t.is(r.status, 'fulfilled', events[i]);
    }
  });
  t.deepEqual(refused, [culprit]);
  t.deepEqual(new Set(state.committed), new Set(['first', ...events.filter((e) => e !== culprit)]));
  t.is(state.committed.length, MAX_TURNS_PER_COMMIT, 'every good turn written exactly once');
});

test('several culprits fail alone; a fenced turn in the same batch fails with FencedError', async (t) => {
  const events = ids(20, 'e');
  const culprits = new Set([events[0]!, events[7]!, events[19]!]);
  const { pool, state } = fakePostgres(culprits, new Map([[5, 2]]));
  const batcher = createCommitBatcher(pool, { isTurnFault: isRowFault });
  const first = batcher.commit(turn('first'));
  const writes = events.map((e, i) => (i === 3 ? turn(e, 1, 5) : turn(e)));
  const results = await Promise.allSettled(writes.map((w) => batcher.commit(w)));
  await first;
  results.forEach((r, i) => {
    const e = events[i]!;
    if (culprits.has(e)) t.true(r.status === 'rejected' && r.reason instanceof TurnRefusedError, e);
    else if (i === 3) t.true(r.status === 'rejected' && r.reason instanceof FencedError, e);
    else t.is(r.status, 'fulfilled', e);
  });
  t.false(state.committed.some((e) => culprits.has(e) || e === events[3]));
});

test('a connection failure during the bisection fails every turn not committed yet, with that error', async (t) => {
  const events = ids(8, 'e');
  const { pool, state } = fakePostgres(new Set([events[6]!]));
  const batcher = createCommitBatcher(pool, { isTurnFault: isRowFault });
  const first = batcher.commit(turn('first'));
  // Statements: 1 first, 2 the batch (refused), 3 the first half (commits), 4 the second half (refused), then down.
  state.downAfter = 4;
  const results = await Promise.allSettled(events.map((e) => batcher.commit(turn(e))));
  await first;
  t.deepEqual(state.committed, ['first', ...events.slice(0, 4)]);
  results.forEach((r, i) => {
    if (i < 4) t.is(r.status, 'fulfilled');
    else t.true(r.status === 'rejected' && (r.reason as { code?: string }).code === '57P01', events[i]);
  });
  t.is(state.statements, 5, 'no statement after the connection failure');
});

test('a failure that is not a turn fault fails the whole batch at once, without bisecting', async (t) => {
  const { pool, state } = fakePostgres(new Set());
  const batcher = createCommitBatcher(pool, { isTurnFault: isRowFault });
  state.down = true;
  const results = await Promise.allSettled(ids(5, 'e').map((e) => batcher.commit(turn(e))));
  t.true(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === '57P01'));
  t.is(state.statements, 2, 'the first turn alone, then the other four together');
});

test('turns ready while a commit is in flight go together next; each batch reports its turns and its time on the injected clock', async (t) => {
  const clock = new FakeClock();
  const { pool: inner, state } = fakePostgres(new Set());
  const gates: (() => void)[] = [];
  // Postgres that answers only when the test opens the gate of the statement.
  const pool = {
    query: (config: { values: unknown[] }) =>
      new Promise((resolve, reject) => gates.push(() => (inner as { query(c: unknown): Promise<unknown> }).query(config).then(resolve, reject))),
  };
  const batches: [number, number][] = [];
  const batcher = createCommitBatcher(pool as never, { isTurnFault: isRowFault, clock, onBatch: (turns, seconds) => batches.push([turns, seconds]) });

  const first = batcher.commit(turn('first'));
  await settle();
  const later = ['a', 'b', 'c'].map((e) => batcher.commit(turn(e)));
  t.is(batcher.waiting(), 3, 'three turns wait for the commit in flight');
  await clock.advance(40);
  gates.shift()?.();
  await first;
  await settle();
  t.deepEqual(batches, [[1, 0.04]]);
  t.is(batcher.waiting(), 0);
  t.is(gates.length, 1, 'the three waiting turns went out as one statement');
  await clock.advance(15);
  gates.shift()?.();
  await Promise.all(later);
  await settle();
  t.deepEqual(batches, [[1, 0.04], [3, 0.015]]);
  t.deepEqual(state.committed, ['first', 'a', 'b', 'c']);
});
