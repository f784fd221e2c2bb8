/** serveInFlight over a real object-mode Duplex: the bound on items in flight, pausing and resuming the reader, the end. */
import { Duplex } from 'node:stream';
import test from 'ava';
import { serveInFlight } from '../../src/grpc/inFlight.js';

/** An object-mode Duplex: the test pushes items into its readable side and collects what is written. */
function itemStream() {
  const written: string[] = [];
  const stream = new Duplex({
    objectMode: true,
    read() {},
    write(chunk: string, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  return { stream, written };
}

/** Handlers that answer only when the test says so; counts how many run at once. */
function gatedAnswers() {
  const gates = new Map<string, () => void>();
  let running = 0;
  let most = 0;
  const taken: string[] = [];
  return {
    answer: (item: string) =>
      new Promise<string>((resolve) => {
        taken.push(item);
        running++;
        most = Math.max(most, running);
        gates.set(item, () => {
          running--;
          resolve(`answer ${item}`);
        });
      }),
    open: (item: string) => gates.get(item)?.(),
    taken,
    most: () => most,
  };
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
};

test('at most `max` items are taken until an answer is written; answers go out in any order', async (t) => {
  const { stream, written } = itemStream();
  const gated = gatedAnswers();
  const served = serveInFlight<string, string>(stream, 3, gated.answer, new AbortController().signal);
  for (let i = 0; i < 10; i++) stream.push(`i${i}`);
  await until(() => gated.taken.length === 3);
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(gated.taken, ['i0', 'i1', 'i2'], 'nothing past the bound is taken');
  t.true(stream.isPaused(), 'the reader is paused at the bound');

  gated.open('i1');
  await until(() => gated.taken.length === 4);
  t.deepEqual(written, ['answer i1'], 'answers go out as they are ready');
  t.is(gated.taken[3], 'i3');

  stream.push(null);
  for (let i = 0; i < 10; i++) {
    await until(() => gated.taken.includes(`i${i}`) || i > 9);
    gated.open(`i${i}`);
  }
  await served;
  t.is(written.length, 10);
  t.is(gated.most(), 3);
});

test('it ends when the sender half-closes and every answer is written, or at once when aborted', async (t) => {
  const { stream, written } = itemStream();
  const served = serveInFlight<string, string>(stream, 2, async (item) => `answer ${item}`, new AbortController().signal);
  stream.push('a');
  stream.push('b');
  stream.push(null);
  await served;
  t.deepEqual(written, ['answer a', 'answer b']);

  const other = itemStream();
  const controller = new AbortController();
  const gated = gatedAnswers();
  const aborted = serveInFlight<string, string>(other.stream, 2, gated.answer, controller.signal);
  other.stream.push('x');
  await until(() => gated.taken.length === 1);
  controller.abort();
  await aborted;
  gated.open('x');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(other.written, [], 'an answer still in flight when the call ended is not written');
});
