/**
 * The actor runtime's idle passivation with its lazily re-armed timer (one timer per actor,
 * not one per turn): an actor that keeps getting messages is never passivated, however long
 * it lives; one that goes quiet is passivated about `idleMs` after its last turn; a message
 * after passivation activates a fresh actor.
 */
import test from 'ava';
import { pino } from 'pino';
import { ActorRegistry, type ActorBehavior } from '../../actors/runtime/actorRegistry.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function counting() {
  const stats = { activations: 0, passivations: 0, turns: 0 };
  const factory = (): ActorBehavior<number, number> => ({
    async activate() {
      stats.activations += 1;
    },
    async turn(batch) {
      stats.turns += 1;
      return batch.map((n) => n * 2);
    },
    async passivate() {
      stats.passivations += 1;
    },
  });
  return { stats, factory };
}

test('a busy actor outlives idleMs many times over; a quiet one is passivated about idleMs after its last turn', async (t) => {
  const { stats, factory } = counting();
  const registry = new ActorRegistry(factory, pino({ level: 'silent' }), { mailboxCapacity: 100, idleMs: 250 });
  const started = performance.now();
  let lastTurn = started;
  // Messages every 30 ms for 4× idleMs.
  while (performance.now() - started < 1000) {
    t.is(await registry.send('e1', 21), 42);
    lastTurn = performance.now();
    await sleep(30);
  }
  t.is(stats.passivations, 0, 'never passivated while busy');
  t.is(stats.activations, 1);
  t.deepEqual(registry.activeKeys(), ['e1']);

  await sleep(30);
  t.is(stats.passivations, 0, 'not before idleMs');
  for (let i = 0; i < 200 && stats.passivations === 0; i++) await sleep(10);
  const idleFor = performance.now() - lastTurn;
  t.is(stats.passivations, 1);
  t.true(idleFor >= 250 && idleFor < 1000, `passivated after ${idleFor.toFixed(0)} ms idle`);
  t.deepEqual(registry.activeKeys(), []);

  t.is(await registry.send('e1', 1), 2, 'a new message activates a fresh actor');
  t.is(stats.activations, 2);
  await registry.stop();
  t.is(stats.passivations, 2);
});

test('a turn that fails because of one of its commands is run again one command per turn on a fresh actor; only that command fails', async (t) => {
  class Refused extends Error {}
  const turns: number[][] = [];
  let activations = 0;
  const factory = (): ActorBehavior<number, number> => ({
    async activate() {
      activations += 1;
    },
    async turn(batch) {
      turns.push([...batch]);
      if (batch.includes(-1)) throw new Refused('refused');
      if (batch.includes(-2)) throw new Error('connection lost');
      return batch.map((n) => n * 2);
    },
    async passivate() {},
    isolates: (err) => err instanceof Refused,
  });
  const registry = new ActorRegistry(factory, pino({ level: 'silent' }), { mailboxCapacity: 100, idleMs: 60_000 });
  const results = await Promise.allSettled([1, -1, 3].map((n) => registry.send('k', n)));
  t.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : 'refused')), [2, 'refused', 6]);
  t.deepEqual(turns, [[1, -1, 3], [1], [-1], [3]]);
  t.is(activations, 3, 'reloaded after each failed turn');
  // Any other failure still fails the whole turn.
  const other = await Promise.allSettled([5, -2].map((n) => registry.send('k', n)));
  t.true(other.every((r) => r.status === 'rejected'));
  await registry.stop();
});
