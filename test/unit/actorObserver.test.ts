/**
 * The actor runtime's observer port: activations (with their outcome and time), turns
 * with the messages they took, BUSY refusals and passivations are reported; the deepest
 * mailbox and the active behaviors can be read at any time.
 */
import test from 'ava';
import { pino } from 'pino';
import { ActorRegistry, MailboxFullError, type ActorBehavior, type ActorObserver } from '../../actors/runtime/actorRegistry.js';

function recorder() {
  const seen: string[] = [];
  const observer: ActorObserver = {
    activated: (key, outcome, seconds) => seen.push(`activated ${key} ${outcome} ${seconds >= 0}`),
    passivated: (key) => seen.push(`passivated ${key}`),
    turn: (key, messages) => seen.push(`turn ${key} ${messages}`),
    busy: (key) => seen.push(`busy ${key}`),
  };
  return { seen, observer };
}

test('activations, turns, BUSY refusals and passivations are observed; mailbox depth is readable while messages wait', async (t) => {
  const { seen, observer } = recorder();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const factory = (): ActorBehavior<number, number> => ({
    activate: () => gate,
    async turn(batch) {
      return batch.map((n) => n + 1);
    },
    async passivate() {},
  });
  const registry = new ActorRegistry(factory, pino({ level: 'silent' }), { mailboxCapacity: 3, idleMs: 60_000, observer });
  const replies = [1, 2, 3].map((n) => registry.send('k', n));
  const refused = registry.send('k', 4);
  await t.throwsAsync(refused, { instanceOf: MailboxFullError });
  t.is(registry.maxMailboxDepth(), 3, 'three wait while the actor activates');
  t.deepEqual(registry.activeBehaviors(), [], 'not active yet');
  open();
  t.deepEqual(await Promise.all(replies), [2, 3, 4]);
  t.is(registry.maxMailboxDepth(), 0);
  t.is(registry.activeBehaviors().length, 1);
  await registry.passivate('k');
  t.deepEqual(seen, ['busy k', 'activated k ok true', 'turn k 3', 'passivated k']);
});

test('a failed activation is observed as failed, and nothing is passivated', async (t) => {
  const { seen, observer } = recorder();
  const factory = (): ActorBehavior<number, number> => ({
    activate: async () => {
      throw new Error('no such event');
    },
    turn: async (batch) => [...batch],
    async passivate() {},
  });
  const registry = new ActorRegistry(factory, pino({ level: 'silent' }), { mailboxCapacity: 10, idleMs: 60_000, observer });
  await t.throwsAsync(registry.send('gone', 1), { message: 'no such event' });
  await registry.stop();
  t.deepEqual(seen, ['activated gone failed true']);
});
