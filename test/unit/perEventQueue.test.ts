import test from 'ava';
import { createPerEventQueue } from '../../src/inventory/perEventQueue.js';

/** A promise to resolve or reject by hand. */
function gate() {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

test('runs of one event go one at a time, in order, a failed one not holding up the next; other events do not wait', async (t) => {
  const queue = createPerEventQueue();
  const order: string[] = [];
  const first = gate();
  const a1 = queue.run('a', async () => {
    order.push('a1 start');
    await first.promise;
    order.push('a1 end');
  });
  const a2 = queue.run('a', async () => {
    order.push('a2');
    return 2;
  });
  const b1 = queue.run('b', async () => {
    order.push('b1');
  });
  await b1;
  t.deepEqual(order, ['a1 start', 'b1'], 'b ran while a1 was still running; a2 waits for a1');
  first.fail(new Error('a1 failed'));
  await t.throwsAsync(a1, { message: 'a1 failed' });
  t.is(await a2, 2);
  t.deepEqual(order, ['a1 start', 'b1', 'a2']);
});
